/* resp.h: Redis commands formatted by hand in RESP, for the calls made on
 * every request (hiredis's format string costs a parse each time). */
#ifndef CRASHONLY_RESP_H
#define CRASHONLY_RESP_H

#include <stddef.h>

#include "buf.h"

/* The header of a command of n arguments: "*n\r\n". */
void resp_array(struct buf *b, long long n);

/* One argument, a bulk string: "$len\r\n" s "\r\n". */
void resp_arg(struct buf *b, const char *s);
void resp_arg_len(struct buf *b, const char *s, size_t len);
void resp_arg_ll(struct buf *b, long long v);

#endif
