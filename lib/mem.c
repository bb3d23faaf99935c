/* mem.c: malloc and realloc that abort when memory runs out. */
#include "mem.h"
#include "log.h"

#include <stdlib.h>

void *xmalloc(size_t size)
{
    void *p = malloc(size);

    if (p == NULL) {
        log_line("level=fatal event=oom size=%zu", size);
        abort();
    }
    return p;
}

void *xrealloc(void *p, size_t size)
{
    p = realloc(p, size);
    if (p == NULL) {
        log_line("level=fatal event=oom size=%zu", size);
        abort();
    }
    return p;
}
