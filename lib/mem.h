/* mem.h: allocation that cannot fail. */
#ifndef LIB_MEM_H
#define LIB_MEM_H

#include <stddef.h>

/* Allocation failure logs one line and aborts, so callers never test for
 * NULL. The caller owns what they return. */
void *xmalloc(size_t size);
void *xrealloc(void *p, size_t size);

#endif
