/* store.c: the hit counter in Redis, through one async hiredis connection
 * on which the commands of all clients pipeline. */
#include "store.h"
#include "util.h"

#include <hiredis/adapters/libev.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

/* The Redis Function library. Its name carries a version, so workers of
 * two versions can share a Redis during a rolling restart. FUNCTION LOAD
 * persists it in the AOF and RDB: it survives Redis restarts. */
static const char library[] =
    "#!lua name=crashonly_1\n"
    "-- co_hit_1 KEYS total, workers[, id]  ARGV worker[, seconds]\n"
    "-- Count a hit; a known id returns its first number instead.\n"
    "local function hit(keys, args)\n"
    "  if keys[3] then\n"
    "    local seen = redis.call('GET', keys[3])\n"
    "    if seen then return tonumber(seen) end\n"
    "  end\n"
    "  local n = redis.call('INCR', keys[1])\n"
    "  redis.call('HINCRBY', keys[2], args[1], 1)\n"
    "  if keys[3] then redis.call('SET', keys[3], n, 'EX', args[2]) end\n"
    "  return n\n"
    "end\n"
    "-- co_hits_1 KEYS total, workers: both, as one JSON snapshot.\n"
    "local function hits(keys)\n"
    "  local w, workers = redis.call('HGETALL', keys[2]), {}\n"
    "  for i = 1, #w, 2 do workers[w[i]] = tonumber(w[i + 1]) end\n"
    "  local total = tonumber(redis.call('GET', keys[1]) or '0')\n"
    "  return cjson.encode({total = total, workers = workers})\n"
    "end\n"
    "redis.register_function('co_hit_1', hit)\n"
    "redis.register_function{function_name = 'co_hits_1',\n"
    "  callback = hits, flags = {'no-writes'}}\n";

#define KEY_TOTAL   "crashonly:hits"
#define KEY_WORKERS "crashonly:workers"
#define KEY_ID      "crashonly:id:"
#define CMD_MAX     512 /* the longest formatted command, with a 128-byte id */

static struct ev_loop *loop;
static redisAsyncContext *redis;
static const struct config *cfg;
static store_reply_fn *sink;
static void (*on_ready)(void);

/* Commands formatted once at start-up; per hit only the id is added. */
static struct buf cmd_hit;      /* FCALL co_hit_1 2 total workers worker */
static struct buf cmd_hit_head; /* FCALL co_hit_1 3 total workers */
static struct buf cmd_hit_tail; /* worker seconds */
static struct buf cmd_hits;     /* FCALL_RO co_hits_1 2 total workers */

/* The watchdog: a reply later than the timeout is a crash. */
static ev_timer watchdog;
static unsigned pending;   /* commands sent and not yet answered */
static ev_tstamp progress; /* last reply, or when pending left 0 */
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

/* A reply to a client's command, handed to the sink as n or text. */
static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    const redisReply *r = reply;

    (void)ac;
    got(r);
    if (r->type == REDIS_REPLY_INTEGER) {
        sink(privdata, r->integer, NULL, 0);
    } else if (r->type == REDIS_REPLY_STRING) {
        sink(privdata, 0, r->str, r->len);
    } else if (r->type == REDIS_REPLY_STATUS) {
        sink(privdata, 1, r->str, r->len);
    } else if (r->type == REDIS_REPLY_ERROR) {
        error_reply(r);
        sink(privdata, -1, r->str, r->len);
    } else {
        sink(privdata, -1, "unexpected reply", 16);
    }
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
 * silent Redis is found out even with no clients. */
static void on_watchdog(struct ev_loop *l, ev_timer *w, int revents)
{
    ev_tstamp late = ev_now(l) - progress;

    (void)w;
    (void)revents;
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
    sink = replies;

    buf_puts(&cmd_hit, "*6\r\n");
    arg(&cmd_hit, "FCALL");
    arg(&cmd_hit, "co_hit_1");
    arg(&cmd_hit, "2");
    arg(&cmd_hit, KEY_TOTAL);
    arg(&cmd_hit, KEY_WORKERS);
    arg(&cmd_hit, c->worker);
    buf_puts(&cmd_hit_head, "*8\r\n");
    arg(&cmd_hit_head, "FCALL");
    arg(&cmd_hit_head, "co_hit_1");
    arg(&cmd_hit_head, "3");
    arg(&cmd_hit_head, KEY_TOTAL);
    arg(&cmd_hit_head, KEY_WORKERS);
    snprintf(secs, sizeof(secs), "%d", c->dedupe_seconds);
    arg(&cmd_hit_tail, c->worker);
    arg(&cmd_hit_tail, secs);
    buf_puts(&cmd_hits, "*5\r\n");
    arg(&cmd_hits, "FCALL_RO");
    arg(&cmd_hits, "co_hits_1");
    arg(&cmd_hits, "2");
    arg(&cmd_hits, KEY_TOTAL);
    arg(&cmd_hits, KEY_WORKERS);

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
    ev_timer_init(&watchdog, on_watchdog, tick, tick);
    ev_timer_start(loop, &watchdog);
}

void store_hit(const char *id, size_t id_len, void *privdata)
{
    char cmd[CMD_MAX];
    struct buf b = {cmd, 0, sizeof(cmd)};

    sent();
    if (id_len == 0) {
        redisAsyncFormattedCommand(redis, on_reply, privdata, cmd_hit.p,
                                   cmd_hit.len);
        return;
    }
    co_assert(cmd_hit_head.len + cmd_hit_tail.len + id_len + 40 < CMD_MAX);
    buf_put(&b, cmd_hit_head.p, cmd_hit_head.len);
    buf_puts(&b, "$");
    buf_putll(&b, (long long)(sizeof(KEY_ID) - 1 + id_len));
    buf_puts(&b, "\r\n" KEY_ID);
    buf_put(&b, id, id_len);
    buf_puts(&b, "\r\n");
    buf_put(&b, cmd_hit_tail.p, cmd_hit_tail.len);
    co_assert(b.p == cmd);
    redisAsyncFormattedCommand(redis, on_reply, privdata, b.p, b.len);
}

void store_hits(void *privdata)
{
    sent();
    redisAsyncFormattedCommand(redis, on_reply, privdata, cmd_hits.p,
                               cmd_hits.len);
}

void store_ping(void *privdata)
{
    sent();
    redisAsyncCommand(redis, on_reply, privdata, "PING");
}
