/* waiters.c: who waits for a count, in the order of the Redis calls: a
 * FIFO ring that doubles when full and never shrinks. */
#include "waiters.h"
#include "log.h"
#include "mem.h"

#include <stdlib.h>

static struct waiter *ring;
static size_t ring_cap, ring_head, ring_len;

struct waiter *waiters_push(void *who, int id)
{
    struct waiter *w;

    if (ring_len == ring_cap) {
        size_t cap = ring_cap ? ring_cap * 2 : 256, i;
        struct waiter *r = xmalloc(cap * sizeof(*r));

        for (i = 0; i < ring_len; i++)
            r[i] = ring[(ring_head + i) % ring_cap];
        free(ring);
        ring = r;
        ring_cap = cap;
        ring_head = 0;
    }
    w = &ring[(ring_head + ring_len) % ring_cap];
    w->who = who;
    w->id = id;
    w->number = 0;
    ring_len++;
    return w;
}

struct waiter *waiters_at(size_t i)
{
    co_assert(i < ring_len);
    return &ring[(ring_head + i) % ring_cap];
}

struct waiter waiters_pop(void)
{
    struct waiter w;

    co_assert(ring_len > 0);
    w = ring[ring_head];
    ring_head = (ring_head + 1) % ring_cap;
    ring_len--;
    return w;
}
