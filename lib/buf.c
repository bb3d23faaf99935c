/* buf.c: growable byte buffers, and numbers as text without snprintf
 * (they run for every request). */
#include "buf.h"
#include "mem.h"

#include <string.h>

void buf_put(struct buf *b, const char *s, size_t len)
{
    if (len == 0)
        return;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 256;

        while (cap < b->len + len)
            cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, len);
    b->len += len;
}

void buf_puts(struct buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

size_t buf_ll_text(char out[BUF_LL_MAX], long long v)
{
    char tmp[BUF_LL_MAX];
    char *p = tmp + sizeof(tmp);
    unsigned long long u =
        v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    size_t n;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    n = (size_t)(tmp + sizeof(tmp) - p);
    memcpy(out, p, n);
    return n;
}

void buf_putll(struct buf *b, long long v)
{
    char s[BUF_LL_MAX];

    buf_put(b, s, buf_ll_text(s, v));
}
