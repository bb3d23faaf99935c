/* buf.c: growable byte buffers, and numbers as text without snprintf
 * (they run for every request). */
#include "buf.h"
#include "mem.h"

#include <string.h>

void buf_grow(struct buf *b, size_t len)
{
    size_t cap = b->cap ? b->cap : 256;

    while (cap < b->len + len)
        cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}

size_t buf_ll_text(char out[BUF_LL_MAX], long long v)
{
    unsigned long long u =
        v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    size_t n = v < 0;
    char *p;

    for (unsigned long long t = u; t >= 10; t /= 10)
        n++;
    n++;
    p = out + n;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return n;
}

/* The digits go straight into b: no copy. */
void buf_putll(struct buf *b, long long v)
{
    if (b->len + BUF_LL_MAX > b->cap)
        buf_grow(b, BUF_LL_MAX);
    b->len += buf_ll_text(b->p + b->len, v);
}
