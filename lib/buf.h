/* buf.h: growable byte buffers on the heap, and numbers as text. */
#ifndef LIB_BUF_H
#define LIB_BUF_H

#include <stddef.h>

/* A growable byte buffer. It starts empty, as BUF_EMPTY (or zeroed
 * memory): buf_put allocates p, so p is the heap's or NULL, never an array
 * of the caller's. The owner frees p (never at exit). */
struct buf {
    char *p;
    size_t len; /* bytes in use */
    size_t cap; /* bytes allocated */
};
#define BUF_EMPTY {NULL, 0, 0}

void buf_put(struct buf *b, const char *s, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putll(struct buf *b, long long v);

#define BUF_LL_MAX 20 /* the digits and sign of the longest long long */

/* Write v's decimal digits into out, with no NUL; returns how many. */
size_t buf_ll_text(char out[BUF_LL_MAX], long long v);

#endif
