/* resp.c: RESP arrays of bulk strings, as Redis reads commands. */
#include "resp.h"

#include <string.h>

void resp_array(struct buf *b, long long n)
{
    buf_puts(b, "*");
    buf_putll(b, n);
    buf_puts(b, "\r\n");
}

void resp_arg_len(struct buf *b, const char *s, size_t len)
{
    buf_puts(b, "$");
    buf_putll(b, (long long)len);
    buf_puts(b, "\r\n");
    buf_put(b, s, len);
    buf_puts(b, "\r\n");
}

void resp_arg(struct buf *b, const char *s)
{
    resp_arg_len(b, s, strlen(s));
}

void resp_arg_ll(struct buf *b, long long v)
{
    char s[BUF_LL_MAX];

    resp_arg_len(b, s, buf_ll_text(s, v));
}
