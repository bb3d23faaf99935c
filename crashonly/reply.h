/* reply.h: the worker's answers, whole responses appended to a buffer.
 * No I/O. */
#ifndef CRASHONLY_REPLY_H
#define CRASHONLY_REPLY_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "http.h"

/* Keep the Date header's text current; call once a loop pass. */
void reply_set_date(time_t now);

/* Append a whole response to r to b. r->keepalive 0 adds Connection:
 * close. */
void reply_hit(struct buf *b, const struct http_req *r, const char *worker,
               long long n);
void reply_json(struct buf *b, const struct http_req *r, const char *json,
                size_t len);
/* A 200 with the body of len bytes (its own last newline) of type. */
void reply_body(struct buf *b, const struct http_req *r, const char *type,
                const char *body, size_t len);
void reply_status(struct buf *b, const struct http_req *r, int status);
/* The interim 100 (Continue) for r, once its headers are in. */
void reply_continue(struct buf *b);

#endif
