/* waiters.h: who waits for a count, in the order of the Redis calls. */
#ifndef CRASHONLY_WAITERS_H
#define CRASHONLY_WAITERS_H

#include <stddef.h>

/* One client's hit in a call; one with who NULL ends a call's waiters. */
struct waiter {
    void *who;        /* store_hit()'s who; NULL: the end of a call */
    int id;           /* 1: numbered by its id; 0: a plain hit */
    long long number; /* its number, once its call's reply came */
    double sent;      /* the end of a call: when the call was sent
                         (CLOCK_MONOTONIC, s); unset for a hit */
};

/* Append a waiter at the tail, and return it (valid until the next
 * push). The ring grows as it needs to. */
struct waiter *waiters_push(void *who, int id);

/* The i-th waiter from the head, to fill in its number; valid until the
 * next push. */
struct waiter *waiters_at(size_t i);

/* Take the waiter at the head. */
struct waiter waiters_pop(void);

#endif
