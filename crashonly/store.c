/* store.c: the hit counter in Redis, as the connections see it: a hit, the
 * totals, readiness. The connection is link.c's, the start-up setup.c's,
 * the grouping of hits commit.c's. */
#include "store.h"
#include "commit.h"
#include "function.h"
#include "link.h"
#include "log.h"
#include "resp.h"
#include "setup.h"

#include <stdio.h>

static const struct config *cfg;
static store_reply_fn *answer; /* where each client's reply goes */
static struct buf cmd_hits;    /* FCALL co_hits 2 total workers */

/* An error for who: Redis's, or one of ours for a reply of a type the
 * command cannot give. */
static void answer_error(void *who, const redisReply *r)
{
    static const char odd[] = "unexpected reply";
    struct store_reply a = {STORE_ERROR, 0, odd, sizeof(odd) - 1};

    if (r->type == REDIS_REPLY_ERROR) {
        a.str = r->str;
        a.len = r->len;
    }
    answer(who, &a);
}

/* True when r is of the type a client's command expects; else who gets
 * the error, and an error from Redis is logged. */
static int expected(const redisReply *r, int type, void *who)
{
    if (r->type == type)
        return 1;
    if (r->type == REDIS_REPLY_ERROR)
        link_error(r);
    answer_error(who, r);
    return 0;
}

/* The reply to co_hits, a JSON string, for who. */
static void on_hits(redisAsyncContext *ac, void *reply, void *who)
{
    const redisReply *r = reply;
    struct store_reply a = {STORE_JSON, 0, NULL, 0};

    (void)ac;
    link_got(r);
    if (!expected(r, REDIS_REPLY_STRING, who))
        return;
    a.str = r->str;
    a.len = r->len;
    answer(who, &a);
}

/* The reply to a readiness probe's PING, for who: Redis answers. */
static void on_ping(redisAsyncContext *ac, void *reply, void *who)
{
    const redisReply *r = reply;
    struct store_reply a = {STORE_READY, 0, NULL, 0};

    (void)ac;
    link_got(r);
    if (expected(r, REDIS_REPLY_STATUS, who))
        answer(who, &a);
}

/* The reply to a readiness probe's ROLE, with ACK_REPLICAS: ready while
 * the master has that many replicas online (ROLE lists no other) and the
 * newest acknowledgement found them all (a replica stopped or cut off
 * stays online for the master until repl-timeout). */
static void on_role(redisAsyncContext *ac, void *reply, void *who)
{
    const redisReply *r = reply;
    struct store_reply a = {STORE_READY, 0, NULL, 0};
    char text[96];
    long long online;

    (void)ac;
    link_got(r);
    if (!expected(r, REDIS_REPLY_ARRAY, who))
        return;
    online = r->elements == 3 && r->element[2]->type == REDIS_REPLY_ARRAY
                 ? (long long)r->element[2]->elements
                 : -1;
    if (online < cfg->ack_replicas || commit_acks_short()) {
        a.type = STORE_ERROR;
        a.len = (size_t)snprintf(
            text, sizeof(text), "%lld replicas online of %d%s", online,
            cfg->ack_replicas,
            commit_acks_short() ? ", the last ack short" : "");
        a.str = text;
    }
    answer(who, &a);
}

void store_start(struct ev_loop *loop, const struct config *c,
                 void (*ready)(void), store_reply_fn *replies)
{
    cfg = c;
    answer = replies;
    resp_array(&cmd_hits, 5);
    resp_arg(&cmd_hits, "FCALL");
    resp_arg(&cmd_hits, FUNCTION_HITS);
    resp_arg(&cmd_hits, "2");
    resp_arg(&cmd_hits, KEY_TOTAL);
    resp_arg(&cmd_hits, KEY_WORKERS);
    commit_start(c, replies);
    link_open(loop, c);
    setup_start(c, ready);
}

void store_hit(const char *id, size_t id_len, void *who)
{
    commit_hit(id, id_len, who);
}

void store_flush(void)
{
    commit_flush();
}

void store_hits(void *who)
{
    link_formatted(on_hits, who, cmd_hits.p, cmd_hits.len);
}

void store_ready(void *who)
{
    if (cfg->ack_replicas > 0)
        link_command(on_role, who, "ROLE");
    else
        link_command(on_ping, who, "PING");
}
