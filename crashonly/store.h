/* store.h: everything that talks to Redis, on one pipelined connection. */
#ifndef CRASHONLY_STORE_H
#define CRASHONLY_STORE_H

#include <ev.h>
#include <stddef.h>

#include "config.h"

/* What Redis answered to one request of a client. */
enum store_type {
    STORE_NUMBER, /* store_hit: the hit's number, in number */
    STORE_JSON,   /* store_hits: the snapshot, in str and len */
    STORE_READY,  /* store_ready: Redis can count and acknowledge */
    STORE_ERROR   /* Redis answered with an error: its text in str, len */
};

struct store_reply {
    enum store_type type;
    long long number; /* STORE_NUMBER */
    const char *str;  /* STORE_JSON, STORE_ERROR: Redis's memory, valid
                         only during the call; not NUL-terminated */
    size_t len;
};

/* The reply to one request, for who: the pointer the caller passed with
 * the request. The store keeps who until it calls this, exactly once for
 * every request (unless the process ends first); the caller keeps who
 * alive until then (a connection closed meanwhile is freed only once
 * its reply came). The store never frees or reads who. */
typedef void store_reply_fn(void *who, const struct store_reply *r);

/* Connect, authenticate, select the db and load the Redis Function, then
 * call ready() (link.c, setup.c). Every reply goes to replies. Any failure
 * ends the process with EXIT_REDIS_*: losing Redis is a crash. */
void store_start(struct ev_loop *loop, const struct config *cfg,
                 void (*ready)(void), store_reply_fn *replies);

/* Count one hit, at most once per id when id_len > 0; the reply is the
 * hit's number (the first answer's number for a repeated id). The
 * hits of one loop pass go to Redis together, as one call, at
 * store_flush() (commit.c). */
void store_hit(const char *id, size_t id_len, void *who);

/* Send the hits asked for so far: call it when the loop is about to wait,
 * after every request read in this pass was handled. */
void store_flush(void);

/* Read {"total": N, "workers": {...}} as one atomic snapshot. */
void store_hits(void *who);

/* Ask whether a hit can be counted and acknowledged now: STORE_READY
 * when Redis answers and, with ACK_REPLICAS, has that many replicas
 * online and the newest acknowledgement found them all; else
 * STORE_ERROR, why in str. */
void store_ready(void *who);

#endif
