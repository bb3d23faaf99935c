/* commit.c: the group commit. The hits of one loop pass go to Redis as one
 * co_count call and one write(2); with ACK_REPLICAS, a WAIT and a WAITAOF
 * behind it, whose answer releases them all.
 *
 * One call is unanswered at a time: the hits that come meanwhile wait for
 * the next call, a batch that grows with the load and costs nothing when
 * the load is low (nothing is unanswered then). docs/bench.md measures
 * what it saves.
 *
 * With ACK_REPLICAS, each call is followed by a WAITAOF on the same
 * connection, and its waiters are answered only once that says the call
 * is on the disks of the master and ACK_REPLICAS replicas (Redis runs
 * nothing else of a connection while its WAITAOF blocks).
 *
 * A WAIT comes between the two. A blocked WAIT or WAITAOF makes the master
 * ask its replicas for their offsets (REPLCONF GETACK), and a replica
 * answers at once with the offset it had fsynced before this event loop
 * pass, before it fsyncs what came with the question: alone, the WAITAOF
 * would wait for the replica's next ACK, sent once a second. The WAIT
 * returns once the replica has read the call, and the WAITAOF behind it,
 * blocking in turn, asks again: by then the replica has fsynced the call
 * (appendfsync always fsyncs before it replies). */
#include "commit.h"
#include "function.h"
#include "link.h"
#include "log.h"
#include "metrics.h"
#include "resp.h"
#include "waiters.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define BATCH_MAX 1000 /* hits in one call; more are sent at once */

static const struct config *cfg;
static store_reply_fn *answer;

/* Arguments formatted once, by commit_start(). */
static struct buf cmd_keys; /* total workers repeats: co_count's keys */
static struct buf cmd_tail; /* worker seconds: its first arguments */
static struct buf cmd_wait; /* WAIT ACK_REPLICAS timeout, then WAITAOF 1
                               ACK_REPLICAS timeout */
static size_t cmd_wait_len; /* where the WAITAOF starts in cmd_wait */

/* The hits of this loop pass, for the next call. Who waits for each
 * call's numbers is in waiters.c: each call's hits in order, then a
 * waiter with who NULL that ends the call's. */
static struct buf batch_ids; /* the ids, formatted: the last arguments */
static unsigned batch_nid;   /* how many */
static unsigned batch_plain; /* hits without an id */
static struct buf batch_cmd; /* the call, formatted anew each time */

static unsigned calls_open; /* calls sent whose waiters are not answered */
static int acks_short;      /* see commit_acks_short() */
static double count_at;     /* when the newest co_count reply came */
static char call_error[160]; /* why the oldest call's waiters get a 503 */
static size_t call_error_len; /* 0: they get their numbers */

int commit_acks_short(void)
{
    return acks_short;
}

/* CLOCK_MONOTONIC in seconds: a vDSO call, once a call and a reply. */
static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The oldest call's end, the waiter after its hits; *hits gets how
 * many they are. */
static const struct waiter *call_end(unsigned *hits)
{
    const struct waiter *w;

    *hits = 0;
    while ((w = waiters_at(*hits))->who != NULL)
        (*hits)++;
    return w;
}

/* The oldest call's waiters get a 503, with this text. */
static void call_failed(const char *str, size_t len)
{
    if (len > sizeof(call_error))
        len = sizeof(call_error);
    memcpy(call_error, str, len);
    call_error_len = len;
}

/* Answer the oldest call's waiters: each its number, or the call's error.
 * answer() queues their next requests' hits for a later call: it does not
 * come back here. */
static void answer_call(void)
{
    struct store_reply a = {STORE_NUMBER, 0, NULL, 0};
    struct waiter w;

    if (call_error_len > 0) {
        a.type = STORE_ERROR;
        a.str = call_error;
        a.len = call_error_len;
    }
    co_assert(calls_open > 0);
    calls_open--;
    while ((w = waiters_pop()).who != NULL) {
        a.number = w.number;
        answer(w.who, &a);
    }
    call_error_len = 0;
}

/* The reply to one co_count call: a number for each of its waiters, or
 * the error that each of them gets; answered now, or once its WAITAOF
 * says so. The new hits' numbers follow each other from the first, the
 * plain hits' first: an id whose number is the next one is new, any
 * other a repeat (of an earlier call, or earlier in this one). */
static void on_count(redisAsyncContext *ac, void *reply, void *privdata)
{
    static const char odd[] = "unexpected reply";
    const redisReply *r = reply;
    size_t next = 1; /* the element for the next waiter with an id */
    unsigned size, counted = 0, repeated = 0;
    double sent;
    long long first;
    struct waiter *w;

    (void)ac;
    (void)privdata;
    link_got(r);
    count_at = now();
    if (r->type == REDIS_REPLY_ERROR) {
        link_error(r);
        call_failed(r->str, r->len);
    } else if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
               r->element[0]->type != REDIS_REPLY_INTEGER) {
        call_failed(odd, sizeof(odd) - 1);
    } else {
        first = r->element[0]->integer;
        for (size_t i = 0; (w = waiters_at(i))->who != NULL; i++) {
            if (!w->id) {
                w->number = first++;
                counted++;
                continue;
            }
            co_assert(next < r->elements &&
                      r->element[next]->type == REDIS_REPLY_INTEGER);
            w->number = r->element[next++]->integer;
            if (w->number == first) {
                first++;
                counted++;
            } else {
                repeated++;
            }
        }
        co_assert(next == r->elements);
    }
    sent = call_end(&size)->sent;
    metrics_call(size, counted, repeated, count_at - sent);
    if (cfg->ack_replicas == 0)
        answer_call();
}

/* The reply to the WAIT after a call: the WAITAOF behind it decides. */
static void on_wait(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    (void)privdata;
    link_got(reply);
}

/* The reply to the WAITAOF after a call: [local, replicas], the disks its
 * writes are on. Fewer than asked is a 503 (the hits were counted, maybe:
 * the client's retry with the same id gets the same number). */
static void on_waitaof(redisAsyncContext *ac, void *reply, void *privdata)
{
    const redisReply *r = reply;
    int pair = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2;
    char text[sizeof(call_error)];
    int n;

    (void)ac;
    (void)privdata;
    link_got(r);
    metrics_ack(now() - count_at);
    if (call_error_len > 0) {
        answer_call(); /* the call itself failed */
        return;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        link_error(r);
        call_failed(r->str, r->len);
    } else if (!pair || r->element[0]->type != REDIS_REPLY_INTEGER ||
               r->element[1]->type != REDIS_REPLY_INTEGER ||
               r->element[0]->integer < 1 ||
               r->element[1]->integer < cfg->ack_replicas) {
        n = snprintf(text, sizeof(text),
                     "WAITAOF: on %lld local and %lld replica disks, of 1 "
                     "and %d",
                     pair ? r->element[0]->integer : -1,
                     pair ? r->element[1]->integer : -1, cfg->ack_replicas);
        link_log_error(text);
        call_failed(text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text));
    }
    acks_short = call_error_len > 0;
    answer_call();
}

/* Send the batch as one call, and write it at once: one Redis command and
 * one write(2) for all of its hits. */
static void send_batch(void)
{
    batch_cmd.len = 0;
    resp_array(&batch_cmd, 9 + 2 * (long long)batch_nid);
    resp_arg(&batch_cmd, "FCALL");
    resp_arg(&batch_cmd, FUNCTION_COUNT);
    resp_arg(&batch_cmd, "3");
    buf_put(&batch_cmd, cmd_keys.p, cmd_keys.len);
    buf_put(&batch_cmd, cmd_tail.p, cmd_tail.len);
    resp_arg_ll(&batch_cmd, batch_plain);
    buf_put(&batch_cmd, batch_ids.p, batch_ids.len);
    waiters_push(NULL, 0)->sent = now();
    calls_open++;
    link_formatted(on_count, NULL, batch_cmd.p, batch_cmd.len);
    if (cfg->ack_replicas > 0) {
        link_formatted(on_wait, NULL, cmd_wait.p, cmd_wait_len);
        link_formatted(on_waitaof, NULL, cmd_wait.p + cmd_wait_len,
                       cmd_wait.len - cmd_wait_len);
    }
    link_flush();
    batch_ids.len = 0;
    batch_nid = batch_plain = 0;
}

void commit_flush(void)
{
    /* The next call goes once this one is answered (on the disks, with
     * acks), but for a batch grown to BATCH_MAX: Redis queues that behind
     * it. */
    if (batch_nid + batch_plain == 0 ||
        (calls_open > 0 && batch_nid + batch_plain < BATCH_MAX))
        return;
    send_batch();
}

void commit_hit(const char *id, size_t id_len, void *who)
{
    waiters_push(who, id_len > 0);
    if (id_len == 0) {
        batch_plain++;
    } else {
        resp_arg_ll(&batch_ids, function_bucket(id, id_len));
        resp_arg_len(&batch_ids, id, id_len);
        batch_nid++;
    }
    if (batch_nid + batch_plain >= BATCH_MAX)
        commit_flush();
}

void commit_start(const struct config *c, store_reply_fn *replies)
{
    char ms[16];

    cfg = c;
    answer = replies;
    resp_arg(&cmd_keys, KEY_TOTAL);
    resp_arg(&cmd_keys, KEY_WORKERS);
    resp_arg(&cmd_keys, KEY_REPEATS);
    resp_arg(&cmd_tail, c->worker);
    resp_arg_ll(&cmd_tail, c->dedupe_seconds);
    /* Both answer well before the watchdog's limit. */
    snprintf(ms, sizeof(ms), "%d", c->redis_timeout_ms / 4);
    resp_array(&cmd_wait, 3);
    resp_arg(&cmd_wait, "WAIT");
    resp_arg_ll(&cmd_wait, c->ack_replicas);
    resp_arg(&cmd_wait, ms);
    cmd_wait_len = cmd_wait.len;
    resp_array(&cmd_wait, 4);
    resp_arg(&cmd_wait, "WAITAOF");
    resp_arg(&cmd_wait, "1");
    resp_arg_ll(&cmd_wait, c->ack_replicas);
    resp_arg(&cmd_wait, ms);
}
