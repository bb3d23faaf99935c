/* store.c: the hit counter in Redis, through one async hiredis connection
 * on which the commands of all clients pipeline. */
#include "store.h"
#include "function.h"
#include "sentinel.h"
#include "util.h"
#include "waiters.h"

#include <hiredis/adapters/libev.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_MAX   1000 /* hits in one call; more are sent at once */

static struct ev_loop *loop;
static redisAsyncContext *redis;
static const struct config *cfg;
static store_reply_fn *answer; /* where each client's reply goes */
static void (*on_ready)(void);

/* Arguments formatted once at start-up. */
static struct buf cmd_keys; /* total workers repeats: co_count_6's first
                               keys */
static struct buf cmd_tail; /* worker seconds: its first arguments */
static struct buf cmd_hits; /* FCALL co_hits_6 2 total workers */

/* The hits of this loop pass, sent as one co_count_6 call by
 * send_batch(). */
static struct buf batch_ids; /* the ids, formatted: the last arguments */
static unsigned batch_nid;   /* how many */
static unsigned batch_plain; /* hits without an id */
static struct buf batch_cmd; /* the call, formatted anew each pass */
static ev_prepare batch_send; /* sends the batch before the loop waits */
/* Who waits for each call's numbers is in waiters.c: each call's hits in
 * order, then a waiter with who NULL that ends the call's. */

/* One call is in flight at a time: the hits that come meanwhile wait for
 * the next call, a batch that grows with the load and costs nothing when
 * the load is low (nothing is in flight then). In the stack, where 5
 * workers share the load, it doubles a call's hits (1.6 to 3.0) and adds
 * 4 % to the stack on one Redis (docs/bench.md).
 *
 * With ACK_REPLICAS, each call is followed by a WAITAOF on the same
 * connection, and its waiters are answered only once that says the call
 * is on the disks of the master and ACK_REPLICAS replicas (Redis runs
 * nothing else of a connection while its WAITAOF blocks): a group commit.
 *
 * A WAIT comes between the two. A blocked WAIT or WAITAOF makes the master
 * ask its replicas for their offsets (REPLCONF GETACK), and a replica
 * answers at once with the offset it had fsynced before this event loop
 * pass, before it fsyncs what came with the question: alone, the WAITAOF
 * would wait for the replica's next ACK, sent once a second. The WAIT
 * returns once the replica has read the call, and the WAITAOF behind it,
 * blocking in turn, asks again: by then the replica has fsynced the call
 * (appendfsync always fsyncs before it replies). 1.2 ms, not up to 1 s. */
static unsigned in_flight;  /* calls whose waiters are not answered yet */
static struct buf cmd_wait; /* WAIT ACK_REPLICAS timeout, then WAITAOF 1
                               ACK_REPLICAS timeout */
static size_t cmd_wait_len; /* where the WAITAOF starts in cmd_wait */
static int acks_short; /* the newest WAITAOF found fewer replicas than
                          asked: not ready until one finds them all */
static char call_error[160]; /* why the oldest call's waiters get a 503 */
static size_t call_error_len; /* 0: they get their numbers */

/* The watchdog: a reply later than the timeout is a crash. */
static ev_timer watchdog;
static unsigned pending;   /* commands sent and not yet answered */
static ev_tstamp progress; /* last reply, or when pending left 0 */
static ev_tstamp last_tick; /* when the watchdog last ran */
static int connected;
static ev_tstamp last_error_log;

/* Start-up commands, named in their replies' privdata. */
static char cmd_auth[] = "AUTH", cmd_select[] = "SELECT", cmd_role[] = "ROLE",
            cmd_waitaof[] = "WAITAOF", cmd_command[] = "COMMAND",
            cmd_multi[] = "MULTI", cmd_delete[] = "FUNCTION DELETE",
            cmd_load[] = "FUNCTION LOAD";
static unsigned loads; /* FUNCTION LOADs sent: a race with older workers
                          lost this many times */

static void arg(struct buf *b, const char *s)
{
    buf_puts(b, "$");
    buf_putll(b, (long long)strlen(s));
    buf_puts(b, "\r\n");
    buf_puts(b, s);
    buf_puts(b, "\r\n");
}

static void arg_ll(struct buf *b, long long v)
{
    char s[24];
    struct buf n = {s, 0, sizeof(s)}; /* fits: never reallocated */

    buf_putll(&n, v);
    buf_puts(b, "$");
    buf_putll(b, (long long)n.len);
    buf_puts(b, "\r\n");
    buf_put(b, n.p, n.len);
    buf_puts(b, "\r\n");
}

static void sent(void)
{
    if (pending++ == 0)
        progress = ev_now(loop);
}

/* A reply arrived: NULL means hiredis is tearing the link down. */
static void got(const redisReply *r)
{
    if (r == NULL)
        die(EXIT_REDIS_LOST, "level=fatal event=redis_lost error=\"%s\"",
            redis->errstr[0] ? redis->errstr : "disconnected");
    co_assert(pending > 0);
    pending--;
    progress = ev_now(loop);
}

/* One log line a second at most for errors clients see as 503s. */
static void log_rate_limited(const char *error)
{
    if (ev_now(loop) - last_error_log >= 1.0) {
        last_error_log = ev_now(loop);
        log_line("level=error event=redis_error error=\"%s\"", error);
    }
}

/* An error reply to a client's command: the client gets a 503. A missing
 * function (FUNCTION FLUSH) is fixed by a restart, which reloads it; a
 * master turned replica (READONLY: a failover), or one with no replica
 * (NOREPLICAS), too, whose restart asks the Sentinels where the master is
 * now. */
static void error_reply(const redisReply *r)
{
    if (strstr(r->str, "Function not found") != NULL)
        die(EXIT_REDIS_REFUSED,
            "level=fatal event=redis_function_gone "
            "error=\"%s\"",
            r->str);
    if (strncmp(r->str, "READONLY", 8) == 0)
        die(EXIT_REDIS_LOST, "level=fatal event=redis_readonly error=\"%s\"",
            r->str);
    /* A master with no replica in sync: one the Sentinels deposed while
     * it was away (paused, cut off), or one whose replicas are all gone.
     * Either way the restart asks the Sentinels again. */
    if (strncmp(r->str, "NOREPLICAS", 10) == 0)
        die(EXIT_REDIS_LOST,
            "level=fatal event=redis_noreplicas error=\"%s\"", r->str);
    log_rate_limited(r->str);
}

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
        error_reply(r);
    answer_error(who, r);
    return 0;
}

/* The reply to co_hits_6, a JSON string, for who. */
static void on_hits(redisAsyncContext *ac, void *reply, void *who)
{
    const redisReply *r = reply;
    struct store_reply a = {STORE_JSON, 0, NULL, 0};

    (void)ac;
    got(r);
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
    got(r);
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
    got(r);
    if (!expected(r, REDIS_REPLY_ARRAY, who))
        return;
    online = r->elements == 3 && r->element[2]->type == REDIS_REPLY_ARRAY
                 ? (long long)r->element[2]->elements
                 : -1;
    if (online < cfg->ack_replicas || acks_short) {
        a.type = STORE_ERROR;
        a.len = (size_t)snprintf(text, sizeof(text),
                                 "%lld replicas online of %d%s", online,
                                 cfg->ack_replicas,
                                 acks_short ? ", the last ack short" : "");
        a.str = text;
    }
    answer(who, &a);
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
 * Waiters may ask again from answer(): they join a later call, behind
 * this call's end. */
static void answer_call(void)
{
    struct store_reply a = {STORE_NUMBER, 0, NULL, 0};
    struct waiter w;

    if (call_error_len > 0) {
        a.type = STORE_ERROR;
        a.str = call_error;
        a.len = call_error_len;
    }
    co_assert(in_flight > 0);
    in_flight--;
    while ((w = waiters_pop()).who != NULL) {
        a.number = w.number;
        answer(w.who, &a);
    }
    call_error_len = 0;
}

/* The reply to one co_count_6 call: a number for each of its waiters, or
 * the error that each of them gets; answered now, or once its WAITAOF
 * says so. */
static void on_count(redisAsyncContext *ac, void *reply, void *privdata)
{
    static const char odd[] = "unexpected reply";
    const redisReply *r = reply;
    size_t next = 1; /* the element for the next waiter with an id */
    long long first;
    struct waiter *w;

    (void)ac;
    (void)privdata;
    got(r);
    if (r->type == REDIS_REPLY_ERROR) {
        error_reply(r);
        call_failed(r->str, r->len);
    } else if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
               r->element[0]->type != REDIS_REPLY_INTEGER) {
        call_failed(odd, sizeof(odd) - 1);
    } else {
        first = r->element[0]->integer;
        for (size_t i = 0; (w = waiters_at(i))->who != NULL; i++) {
            if (!w->id) {
                w->number = first++;
                continue;
            }
            co_assert(next < r->elements &&
                      r->element[next]->type == REDIS_REPLY_INTEGER);
            w->number = r->element[next++]->integer;
        }
        co_assert(next == r->elements);
    }
    if (cfg->ack_replicas == 0)
        answer_call();
}

/* The reply to the WAIT after a call: the WAITAOF behind it decides. */
static void on_replicated(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    (void)privdata;
    got(reply);
}

/* The reply to the WAITAOF after a call: [local, replicas], the disks its
 * writes are on. Fewer than asked is a 503 (the hits were counted, maybe:
 * the client's retry with the same id gets the same number). */
static void on_wait(redisAsyncContext *ac, void *reply, void *privdata)
{
    const redisReply *r = reply;
    char text[sizeof(call_error)];
    int n;

    (void)ac;
    (void)privdata;
    got(r);
    if (call_error_len > 0) {
        answer_call(); /* the call itself failed */
        return;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        error_reply(r);
        call_failed(r->str, r->len);
    } else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
               r->element[0]->type != REDIS_REPLY_INTEGER ||
               r->element[1]->type != REDIS_REPLY_INTEGER ||
               r->element[0]->integer < 1 ||
               r->element[1]->integer < cfg->ack_replicas) {
        n = snprintf(text, sizeof(text),
                     "WAITAOF: on %lld local and %lld replica disks, of 1 "
                     "and %d",
                     r->type == REDIS_REPLY_ARRAY && r->elements == 2
                         ? r->element[0]->integer
                         : -1,
                     r->type == REDIS_REPLY_ARRAY && r->elements == 2
                         ? r->element[1]->integer
                         : -1,
                     cfg->ack_replicas);
        log_rate_limited(text);
        call_failed(text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text));
    }
    acks_short = call_error_len > 0;
    answer_call();
}

/* Send this loop pass's hits as one call, and write it at once: one
 * Redis command and one write(2) for all of them. */
static void send_batch(void)
{
    if (batch_nid + batch_plain == 0)
        return;
    /* The next call goes once this one is answered (on the disks, with
     * acks), but for a batch grown to BATCH_MAX: Redis queues that behind
     * it. */
    if (in_flight > 0 && batch_nid + batch_plain < BATCH_MAX)
        return;
    batch_cmd.len = 0;
    buf_puts(&batch_cmd, "*");
    buf_putll(&batch_cmd, 9 + 2 * (long long)batch_nid);
    buf_puts(&batch_cmd, "\r\n");
    arg(&batch_cmd, "FCALL");
    arg(&batch_cmd, FUNCTION_COUNT);
    arg(&batch_cmd, "3");
    buf_put(&batch_cmd, cmd_keys.p, cmd_keys.len);
    buf_put(&batch_cmd, cmd_tail.p, cmd_tail.len);
    arg_ll(&batch_cmd, batch_plain);
    buf_put(&batch_cmd, batch_ids.p, batch_ids.len);
    waiters_push(NULL, 0);
    in_flight++;
    sent();
    redisAsyncFormattedCommand(redis, on_count, NULL, batch_cmd.p,
                               batch_cmd.len);
    if (cfg->ack_replicas > 0) {
        sent();
        redisAsyncFormattedCommand(redis, on_replicated, NULL, cmd_wait.p,
                                   cmd_wait_len);
        sent();
        redisAsyncFormattedCommand(redis, on_wait, NULL,
                                   cmd_wait.p + cmd_wait_len,
                                   cmd_wait.len - cmd_wait_len);
    }
    redisAsyncHandleWrite(redis);
    batch_ids.len = 0;
    batch_nid = batch_plain = 0;
}

static void on_prepare(struct ev_loop *l, ev_prepare *w, int revents)
{
    (void)l;
    (void)w;
    (void)revents;
    send_batch();
}

static void on_heartbeat(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    (void)privdata;
    got(reply);
}

/* A reply to a start-up command, what: any error is fatal, and so are a
 * Redis that is not a master (a replica, or one that the Sentinels named
 * before a failover) and one without the HSETEX that the function calls
 * (Redis < 8.0: FUNCTION LOAD takes the library, and each count would
 * fail). */
static void check_setup(const redisReply *r, const char *what)
{
    /* A Redis still loading its data is not there yet, nor a master whose
     * replica is not in sync yet (FUNCTION LOAD is a write): a lost Redis,
     * which the restart asks again. */
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "LOADING", 7) == 0)
        die(EXIT_REDIS_LOST, "level=fatal event=redis_loading error=\"%s\"",
            r->str);
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOREPLICAS", 10) == 0)
        die(EXIT_REDIS_LOST,
            "level=fatal event=redis_noreplicas error=\"%s\"", r->str);
    if (r->type == REDIS_REPLY_ERROR)
        die(EXIT_REDIS_REFUSED,
            "level=fatal event=redis_refused command=%s error=\"%s\"%s", what,
            r->str,
            what == cmd_waitaof
                ? " hint=\"ACK_REPLICAS needs Redis >= 8.0 with appendonly yes\""
            : strstr(r->str, "unknown command") ? " hint=\"Redis >= 8.0 needed\""
                                                : "");
    if (what == cmd_role &&
        (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
         r->element[0]->type != REDIS_REPLY_STRING ||
         strcmp(r->element[0]->str, "master") != 0))
        die(EXIT_REDIS_LOST, "level=fatal event=redis_not_master role=%s",
            r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
                    r->element[0]->type == REDIS_REPLY_STRING
                ? r->element[0]->str
                : "?");
    if (what == cmd_command &&
        (r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
         r->element[0]->type != REDIS_REPLY_ARRAY))
        die(EXIT_REDIS_REFUSED,
            "level=fatal event=redis_refused command=HSETEX "
            "error=\"unknown command\" hint=\"Redis >= 8.0 needed\"");
}

/* Replies to AUTH, SELECT, ROLE, WAITAOF, COMMAND INFO, and MULTI and
 * what it queues: privdata names the command. */
static void on_setup(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    got(reply);
    check_setup(reply, privdata);
}

static void ask_version(void);
static void on_exec(redisAsyncContext *ac, void *reply, void *privdata);

/* Load the library, in one MULTI with the deletion of crashonly_6 (the
 * library before it, whose calls it takes: its workers, still running,
 * count in this one from then on), then ask its version again: a worker
 * of an older version may have loaded its own meanwhile, and this
 * worker loads again. */
static void load_library(void)
{
    if (loads++ == 3)
        die(EXIT_REDIS_REFUSED,
            "level=fatal event=redis_refused command=FUNCTION "
            "error=\"another worker loaded an older library, 3 times\"");
    sent();
    redisAsyncCommand(redis, on_setup, cmd_multi, "MULTI");
    sent();
    redisAsyncCommand(redis, on_setup, cmd_delete, "FUNCTION DELETE %s",
                      FUNCTION_LIBRARY_6);
    sent();
    redisAsyncCommand(redis, on_setup, cmd_load, "FUNCTION LOAD REPLACE %s",
                      function_library);
    sent();
    redisAsyncCommand(redis, on_exec, NULL, "EXEC");
    ask_version();
}

/* The reply to the MULTI of load_library(): [FUNCTION DELETE's, FUNCTION
 * LOAD's]. No crashonly_6 to delete is no error; a library Redis refuses
 * is (its Lua, or an ACL without +function). */
static void on_exec(redisAsyncContext *ac, void *reply, void *privdata)
{
    const redisReply *r = reply;

    (void)ac;
    (void)privdata;
    got(r);
    check_setup(r, cmd_load);
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
        die(EXIT_REDIS_REFUSED,
            "level=fatal event=redis_refused command=EXEC "
            "error=\"unexpected reply\"");
    check_setup(r->element[1], cmd_load);
}

/* The reply to co_version: {version, schema}, or no function yet. A
 * library as new as this worker's, or newer, is used as it is: every
 * version takes the calls of the ones before it. */
static void on_version(redisAsyncContext *ac, void *reply, void *privdata)
{
    const redisReply *r = reply;

    (void)ac;
    (void)privdata;
    got(r);
    if (r->type == REDIS_REPLY_ERROR &&
        strstr(r->str, "Function not found") != NULL) {
        load_library();
        return;
    }
    check_setup(r, cmd_load);
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER ||
        r->element[1]->type != REDIS_REPLY_INTEGER)
        die(EXIT_REDIS_REFUSED,
            "level=fatal event=redis_refused command=" FUNCTION_VERSION
            " error=\"unexpected reply\"");
    if (r->element[0]->integer < function_version) {
        load_library();
        return;
    }
    log_line("level=info event=library version=%lld schema=%lld mine=%lld "
             "loaded=%s",
             r->element[0]->integer, r->element[1]->integer, function_version,
             loads > 0 ? "yes" : "no");
    on_ready();
}

static void ask_version(void)
{
    sent();
    redisAsyncCommand(redis, on_version, NULL, "FCALL_RO %s 0",
                      FUNCTION_VERSION);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK)
        die(EXIT_REDIS_LOST, "level=fatal event=redis_connect error=\"%s\"",
            ac->errstr);
    connected = 1;
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    die(EXIT_REDIS_LOST, "level=fatal event=redis_lost error=\"%s\"",
        ac->errstr[0] ? ac->errstr : "connection closed");
}

/* Every tick: end the process if Redis is late; ping it when idle so a
 * silent Redis is found out even with no clients.
 *
 * A tick that comes more than two periods after the last one means that
 * this process did not run meanwhile (SIGSTOP, a frozen container, a
 * starved or suspended machine): how long Redis seems to have taken says
 * nothing of Redis then, and its reply may be waiting in our socket, read
 * in this same loop pass. So Redis's deadline starts again from now: a
 * Redis that is really silent still ends the process, REDIS_TIMEOUT_MS
 * after it ran again (tests/worker.t). */
static void on_watchdog(struct ev_loop *l, ev_timer *w, int revents)
{
    ev_tstamp now = ev_now(l);
    ev_tstamp gap = now - last_tick;
    ev_tstamp late;

    (void)revents;
    last_tick = now;
    if (gap > 2 * w->repeat) {
        log_line("level=warn event=stalled ms=%.0f pending=%u",
                 (gap - w->repeat) * 1000, pending);
        progress = now;
    }
    late = now - progress;
    if (pending > 0 && late * 1000 > cfg->redis_timeout_ms)
        die(connected ? EXIT_REDIS_SLOW : EXIT_REDIS_LOST,
            "level=fatal event=%s timeout_ms=%d pending=%u",
            connected ? "redis_timeout" : "redis_connect_timeout",
            cfg->redis_timeout_ms, pending);
    if (pending == 0 && late >= 1.0) {
        sent();
        redisAsyncCommand(redis, on_heartbeat, NULL, "PING");
    }
}

void store_start(struct ev_loop *l, const struct config *c, void (*ready)(void),
                 store_reply_fn *replies)
{
    struct host_port master;
    char secs[16];
    double tick;

    loop = l;
    cfg = c;
    on_ready = ready;
    answer = replies;

    arg(&cmd_keys, KEY_TOTAL);
    arg(&cmd_keys, KEY_WORKERS);
    arg(&cmd_keys, KEY_REPEATS);
    snprintf(secs, sizeof(secs), "%d", c->dedupe_seconds);
    arg(&cmd_tail, c->worker);
    arg(&cmd_tail, secs);
    buf_puts(&cmd_hits, "*5\r\n");
    arg(&cmd_hits, "FCALL");
    arg(&cmd_hits, FUNCTION_HITS);
    arg(&cmd_hits, "2");
    arg(&cmd_hits, KEY_TOTAL);
    arg(&cmd_hits, KEY_WORKERS);
    /* ms: both answer well before the watchdog's limit */
    snprintf(secs, sizeof(secs), "%d", c->redis_timeout_ms / 4);
    buf_puts(&cmd_wait, "*3\r\n");
    arg(&cmd_wait, "WAIT");
    arg_ll(&cmd_wait, c->ack_replicas);
    arg(&cmd_wait, secs);
    cmd_wait_len = cmd_wait.len;
    buf_puts(&cmd_wait, "*4\r\n");
    arg(&cmd_wait, "WAITAOF");
    arg(&cmd_wait, "1");
    arg_ll(&cmd_wait, c->ack_replicas);
    arg(&cmd_wait, secs);
    ev_prepare_init(&batch_send, on_prepare);
    ev_prepare_start(loop, &batch_send);

    if (c->nsentinels > 0) {
        sentinel_find_master(c, &master);
    } else {
        memcpy(master.host, c->redis.host, sizeof(master.host));
        master.port = c->redis.port;
    }
    redis = redisAsyncConnect(master.host, master.port);
    if (redis == NULL || redis->err)
        die(EXIT_REDIS_LOST, "level=fatal event=redis_connect error=\"%s\"",
            redis ? redis->errstr : "out of memory");
    redisLibevAttach(loop, redis);
    redisAsyncSetConnectCallback(redis, on_connect);
    redisAsyncSetDisconnectCallback(redis, on_disconnect);

    /* Queued now, sent as soon as the connection is up, in this order. */
    if (c->redis.pass[0] != '\0') {
        sent();
        if (c->redis.user[0] != '\0')
            redisAsyncCommand(redis, on_setup, cmd_auth, "AUTH %s %s",
                              c->redis.user, c->redis.pass);
        else
            redisAsyncCommand(redis, on_setup, cmd_auth, "AUTH %s",
                              c->redis.pass);
    }
    if (c->redis.db != 0) {
        sent();
        redisAsyncCommand(redis, on_setup, cmd_select, "SELECT %d",
                          c->redis.db);
    }
    sent();
    redisAsyncCommand(redis, on_setup, cmd_role, "ROLE");
    if (c->ack_replicas > 0) { /* WAITAOF is there, and the AOF is on */
        sent();
        redisAsyncCommand(redis, on_setup, cmd_waitaof, "WAITAOF 1 0 1");
    }
    sent();
    redisAsyncCommand(redis, on_setup, cmd_command, "COMMAND INFO HSETEX");
    ask_version();

    tick = c->redis_timeout_ms / 4000.0;
    last_tick = ev_now(loop);
    ev_timer_init(&watchdog, on_watchdog, tick, tick);
    ev_timer_start(loop, &watchdog);
}

void store_hit(const char *id, size_t id_len, void *who)
{
    waiters_push(who, id_len > 0);
    if (id_len == 0) {
        batch_plain++;
    } else {
        arg_ll(&batch_ids, function_bucket(id, id_len));
        buf_puts(&batch_ids, "$");
        buf_putll(&batch_ids, (long long)id_len);
        buf_puts(&batch_ids, "\r\n");
        buf_put(&batch_ids, id, id_len);
        buf_puts(&batch_ids, "\r\n");
        batch_nid++;
    }
    if (batch_nid + batch_plain >= BATCH_MAX)
        send_batch();
}

void store_hits(void *who)
{
    sent();
    redisAsyncFormattedCommand(redis, on_hits, who, cmd_hits.p,
                               cmd_hits.len);
}

void store_ready(void *who)
{
    sent();
    if (cfg->ack_replicas > 0)
        redisAsyncCommand(redis, on_role, who, "ROLE");
    else
        redisAsyncCommand(redis, on_ping, who, "PING");
}
