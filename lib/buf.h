/* buf.h: growable byte buffers on the heap, and numbers as text. */
#ifndef LIB_BUF_H
#define LIB_BUF_H

#include <stddef.h>
#include <string.h>

/* A growable byte buffer. It starts empty, as BUF_EMPTY (or zeroed
 * memory): buf_put allocates p, so p is the heap's or NULL, never an array
 * of the caller's. The owner frees p (never at exit). */
struct buf {
    char *p;
    size_t len; /* bytes in use */
    size_t cap; /* bytes allocated */
};
#define BUF_EMPTY {NULL, 0, 0}

/* Make room for len more bytes. */
void buf_grow(struct buf *b, size_t len);

/* Inline, as they run some 26 times a request: a string literal's length
 * and its copy are then known when compiled (strlen and memcpy become a
 * few moves; counted by callgrind, docs/bench.md). */
static inline void buf_put(struct buf *b, const char *s, size_t len)
{
    if (len == 0)
        return;
    if (b->len + len > b->cap)
        buf_grow(b, len);
    memcpy(b->p + b->len, s, len);
    b->len += len;
}

static inline void buf_puts(struct buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

void buf_putll(struct buf *b, long long v);

#define BUF_LL_MAX 20 /* the digits and sign of the longest long long */

/* Write v's decimal digits into out, with no NUL; returns how many. */
size_t buf_ll_text(char out[BUF_LL_MAX], long long v);

#endif
