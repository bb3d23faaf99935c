/* store.c: the hit counter in Redis, through one async hiredis connection
 * on which the commands of all clients pipeline. */
#include "store.h"
#include "util.h"

#include <hiredis/adapters/libev.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The Redis Function library. Its name carries a version, so workers of
 * two versions can share a Redis during a rolling restart. FUNCTION LOAD
 * persists it in the AOF and RDB: it survives Redis restarts. */
static const char library[] =
    "#!lua name=crashonly_2\n"
    "-- co_count_2 KEYS total, workers, id...  ARGV worker, seconds, plain\n"
    "-- Count one loop pass of a worker's hits in one atomic step: `plain`\n"
    "-- hits without an id, numbered first .. first + plain - 1, and one\n"
    "-- hit per id key, where an id seen before gets its first number.\n"
    "-- Returns {first, the number of each id key in order}.\n"
    "local function count(keys, args)\n"
    "  local n = tonumber(redis.call('GET', keys[1]) or '0')\n"
    "  local new = tonumber(args[3])\n"
    "  local out = {n + 1}\n"
    "  n = n + new\n"
    "  for i = 3, #keys do\n"
    "    local seen = redis.call('SET', keys[i], n + 1, 'NX', 'GET',\n"
    "                            'EX', args[2])\n"
    "    if seen then\n"
    "      out[i - 1] = tonumber(seen)\n"
    "    else\n"
    "      n, new = n + 1, new + 1\n"
    "      out[i - 1] = n\n"
    "    end\n"
    "  end\n"
    "  if new > 0 then\n"
    "    redis.call('INCRBY', keys[1], new)\n"
    "    redis.call('HINCRBY', keys[2], args[1], new)\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "-- co_hits_2 KEYS total, workers: both, as one JSON snapshot.\n"
    "local function hits(keys)\n"
    "  local w, workers = redis.call('HGETALL', keys[2]), {}\n"
    "  for i = 1, #w, 2 do workers[w[i]] = tonumber(w[i + 1]) end\n"
    "  local total = tonumber(redis.call('GET', keys[1]) or '0')\n"
    "  return cjson.encode({total = total, workers = workers})\n"
    "end\n"
    "redis.register_function('co_count_2', count)\n"
    "redis.register_function{function_name = 'co_hits_2',\n"
    "  callback = hits, flags = {'no-writes'}}\n";

#define KEY_TOTAL   "crashonly:hits"
#define KEY_WORKERS "crashonly:workers"
#define KEY_ID      "crashonly:id:"
#define BATCH_MAX   1000 /* hits in one call; more are sent at once */

static struct ev_loop *loop;
static redisAsyncContext *redis;
static const struct config *cfg;
static store_reply_fn *answer; /* where each client's reply goes */
static void (*on_ready)(void);

/* Arguments formatted once at start-up. */
static struct buf cmd_keys; /* total workers: co_count_2's first keys */
static struct buf cmd_tail; /* worker seconds: its first arguments */
static struct buf cmd_hits; /* FCALL_RO co_hits_2 2 total workers */

/* The hits of this loop pass, sent as one co_count_2 call by
 * send_batch(). */
static struct buf batch_ids; /* the id keys, formatted */
static unsigned batch_nid;   /* how many: the keys past total, workers */
static unsigned batch_plain; /* hits without an id */
static struct buf batch_cmd; /* the call, formatted anew each pass */
static ev_prepare batch_send; /* sends the batch before the loop waits */

/* Who waits for a count, in the order of the calls: each call's waiters,
 * then one with who NULL to end that call's. A ring that grows. */
struct waiter {
    void *who; /* store_hit()'s who */
    int id;    /* 1: numbered by its id key; 0: a plain hit */
};
static struct waiter *ring;
static size_t ring_cap, ring_head, ring_len;

/* The watchdog: a reply later than the timeout is a crash. */
static ev_timer watchdog;
static unsigned pending;   /* commands sent and not yet answered */
static ev_tstamp progress; /* last reply, or when pending left 0 */
static ev_tstamp last_tick; /* when the watchdog last ran */
static int connected;
static ev_tstamp last_error_log;

/* Start-up commands, named in their replies' privdata. */
static char cmd_auth[] = "AUTH", cmd_select[] = "SELECT",
            cmd_function[] = "FUNCTION";

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

static void push(void *who, int id)
{
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
    ring[(ring_head + ring_len) % ring_cap].who = who;
    ring[(ring_head + ring_len) % ring_cap].id = id;
    ring_len++;
}

static struct waiter pop(void)
{
    struct waiter w;

    co_assert(ring_len > 0);
    w = ring[ring_head];
    ring_head = (ring_head + 1) % ring_cap;
    ring_len--;
    return w;
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

/* An error reply to a client's command: the client gets a 503. A missing
 * function (FUNCTION FLUSH) is fixed by a restart, which reloads it. */
static void error_reply(const redisReply *r)
{
    if (strstr(r->str, "Function not found") != NULL)
        die(EXIT_REDIS_REFUSED,
            "level=fatal event=redis_function_gone "
            "error=\"%s\"",
            r->str);
    if (ev_now(loop) - last_error_log >= 1.0) {
        last_error_log = ev_now(loop);
        log_line("level=error event=redis_error error=\"%s\"", r->str);
    }
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

/* The reply to co_hits_2, a JSON string, for who. */
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

/* The reply to a client's PING, the status PONG, for who. */
static void on_ping(redisAsyncContext *ac, void *reply, void *who)
{
    const redisReply *r = reply;
    struct store_reply a = {STORE_PONG, 0, NULL, 0};

    (void)ac;
    got(r);
    if (expected(r, REDIS_REPLY_STATUS, who))
        answer(who, &a);
}

/* The reply to one co_count_2 call: a number for each of its waiters, or
 * the error that each of them gets. Waiters may ask again from answer():
 * they join the next call, behind this call's end. */
static void on_count(redisAsyncContext *ac, void *reply, void *privdata)
{
    const redisReply *r = reply;
    size_t next = 1; /* the element for the next waiter with an id */
    long long first = 0;
    struct store_reply a = {STORE_NUMBER, 0, NULL, 0};
    struct waiter w;
    int ok;

    (void)ac;
    (void)privdata;
    got(r);
    ok = r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
         r->element[0]->type == REDIS_REPLY_INTEGER;
    if (ok)
        first = r->element[0]->integer;
    else if (r->type == REDIS_REPLY_ERROR)
        error_reply(r);
    while ((w = pop()).who != NULL) {
        if (!ok) {
            answer_error(w.who, r);
            continue;
        }
        if (!w.id) {
            a.number = first++;
        } else {
            co_assert(next < r->elements &&
                      r->element[next]->type == REDIS_REPLY_INTEGER);
            a.number = r->element[next++]->integer;
        }
        answer(w.who, &a);
    }
    co_assert(!ok || next == r->elements);
}

/* Send this loop pass's hits as one call, and write it at once: one
 * Redis command and one write(2) for all of them. */
static void send_batch(void)
{
    if (batch_nid + batch_plain == 0)
        return;
    batch_cmd.len = 0;
    buf_puts(&batch_cmd, "*");
    buf_putll(&batch_cmd, 8 + (long long)batch_nid);
    buf_puts(&batch_cmd, "\r\n");
    arg(&batch_cmd, "FCALL");
    arg(&batch_cmd, "co_count_2");
    arg_ll(&batch_cmd, 2 + (long long)batch_nid);
    buf_put(&batch_cmd, cmd_keys.p, cmd_keys.len);
    buf_put(&batch_cmd, batch_ids.p, batch_ids.len);
    buf_put(&batch_cmd, cmd_tail.p, cmd_tail.len);
    arg_ll(&batch_cmd, batch_plain);
    push(NULL, 0);
    sent();
    redisAsyncFormattedCommand(redis, on_count, NULL, batch_cmd.p,
                               batch_cmd.len);
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

/* Replies to AUTH, SELECT and FUNCTION LOAD: any error is fatal. */
static void on_setup(redisAsyncContext *ac, void *reply, void *privdata)
{
    const redisReply *r = reply;
    const char *what = privdata;

    (void)ac;
    got(r);
    /* A Redis still loading its data is not there yet: a lost Redis. */
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "LOADING", 7) == 0)
        die(EXIT_REDIS_LOST, "level=fatal event=redis_loading error=\"%s\"",
            r->str);
    if (r->type == REDIS_REPLY_ERROR)
        die(EXIT_REDIS_REFUSED,
            "level=fatal event=redis_refused command=%s error=\"%s\"%s", what,
            r->str,
            strstr(r->str, "unknown command") ? " hint=\"Redis >= 7.0 needed\""
                                              : "");
    if (what == cmd_function)
        on_ready();
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
    char secs[16];
    double tick;

    loop = l;
    cfg = c;
    on_ready = ready;
    answer = replies;

    arg(&cmd_keys, KEY_TOTAL);
    arg(&cmd_keys, KEY_WORKERS);
    snprintf(secs, sizeof(secs), "%d", c->dedupe_seconds);
    arg(&cmd_tail, c->worker);
    arg(&cmd_tail, secs);
    buf_puts(&cmd_hits, "*5\r\n");
    arg(&cmd_hits, "FCALL_RO");
    arg(&cmd_hits, "co_hits_2");
    arg(&cmd_hits, "2");
    arg(&cmd_hits, KEY_TOTAL);
    arg(&cmd_hits, KEY_WORKERS);
    ev_prepare_init(&batch_send, on_prepare);
    ev_prepare_start(loop, &batch_send);

    redis = redisAsyncConnect(c->redis.host, c->redis.port);
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
    redisAsyncCommand(redis, on_setup, cmd_function, "FUNCTION LOAD REPLACE %s",
                      library);

    tick = c->redis_timeout_ms / 4000.0;
    last_tick = ev_now(loop);
    ev_timer_init(&watchdog, on_watchdog, tick, tick);
    ev_timer_start(loop, &watchdog);
}

void store_hit(const char *id, size_t id_len, void *who)
{
    push(who, id_len > 0);
    if (id_len == 0) {
        batch_plain++;
    } else {
        buf_puts(&batch_ids, "$");
        buf_putll(&batch_ids, (long long)(sizeof(KEY_ID) - 1 + id_len));
        buf_puts(&batch_ids, "\r\n" KEY_ID);
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

void store_ping(void *who)
{
    sent();
    redisAsyncCommand(redis, on_ping, who, "PING");
}
