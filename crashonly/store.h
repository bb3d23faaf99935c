/* store.h: everything that talks to Redis, on one pipelined connection. */
#ifndef CRASHONLY_STORE_H
#define CRASHONLY_STORE_H

#include <ev.h>
#include <stddef.h>

#include "config.h"

/* A reply for privdata: n >= 0 and, for store_hits, the JSON in str; or
 * n < 0 when Redis answered with an error, its text in str. str is Redis's
 * memory, valid only during the call. */
typedef void store_reply_fn(void *privdata, long long n, const char *str,
                            size_t len);

/* Connect, authenticate, select the db and load the Redis Function, then
 * call ready(). Every reply goes to replies. Any failure ends the process
 * with EXIT_REDIS_*: losing Redis is a crash. */
void store_start(struct ev_loop *loop, const struct config *cfg,
                 void (*ready)(void), store_reply_fn *replies);

/* Count one hit, at most once per id when id_len > 0; the reply's n is
 * the hit's number (the first answer's number for a repeated id). The
 * hits of one loop pass go to Redis together, as one call, when the loop
 * is about to wait. */
void store_hit(const char *id, size_t id_len, void *privdata);

/* Read {"total": N, "workers": {...}} as one atomic snapshot. */
void store_hits(void *privdata);

/* Ask Redis whether it answers: n is 1 on PONG. */
void store_ping(void *privdata);

#endif
