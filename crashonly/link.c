/* link.c: the async hiredis connection, every command through one checked
 * send, and the watchdog told of each. */
#include "link.h"
#include "constants.h"
#include "log.h"
#include "sentinel.h"
#include "watchdog.h"

#include <hiredis/adapters/libev.h>
#include <stdarg.h>
#include <string.h>

static struct ev_loop *loop;
static redisAsyncContext *redis;
static ev_tstamp last_error_log;

/* hiredis refuses a command only while it tears the connection down, or
 * out of memory: either way the process cannot go on. */
static void check_sent(int status)
{
    if (status != REDIS_OK)
        die(EXIT_REDIS_LOST, "level=fatal event=redis_lost error=\"%s\"",
            redis->errstr[0] ? redis->errstr : "command refused");
}

void link_command(redisCallbackFn *fn, void *privdata, const char *fmt, ...)
{
    va_list ap;
    int status;

    watchdog_sent();
    va_start(ap, fmt);
    status = redisvAsyncCommand(redis, fn, privdata, fmt, ap);
    va_end(ap);
    check_sent(status);
}

void link_formatted(redisCallbackFn *fn, void *privdata, const char *cmd,
                    size_t len)
{
    watchdog_sent();
    check_sent(redisAsyncFormattedCommand(redis, fn, privdata, cmd, len));
}

void link_flush(void)
{
    redisAsyncHandleWrite(redis);
}

void link_got(const redisReply *r)
{
    if (r == NULL)
        die(EXIT_REDIS_LOST, "level=fatal event=redis_lost error=\"%s\"",
            redis->errstr[0] ? redis->errstr : "disconnected");
    watchdog_got();
}

void link_log_error(const char *text)
{
    if (ev_now(loop) - last_error_log >= 1.0) {
        last_error_log = ev_now(loop);
        log_line("level=error event=redis_error error=\"%s\"", text);
    }
}

void link_error(const redisReply *r)
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
    link_log_error(r->str);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK)
        die(EXIT_REDIS_LOST, "level=fatal event=redis_connect error=\"%s\"",
            ac->errstr);
    watchdog_connected();
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    die(EXIT_REDIS_LOST, "level=fatal event=redis_lost error=\"%s\"",
        ac->errstr[0] ? ac->errstr : "connection closed");
}

static void on_pong(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    (void)privdata;
    link_got(reply);
}

/* The watchdog's ping, when no command waits. */
static void ping(void)
{
    link_command(on_pong, NULL, "PING");
}

void link_open(struct ev_loop *l, const struct config *cfg)
{
    struct host_port master;

    loop = l;
    if (cfg->nsentinels > 0) {
        sentinel_find_master(cfg, &master);
    } else {
        memcpy(master.host, cfg->redis.host, sizeof(master.host));
        master.port = cfg->redis.port;
    }
    redis = redisAsyncConnect(master.host, master.port);
    if (redis == NULL || redis->err)
        die(EXIT_REDIS_LOST, "level=fatal event=redis_connect error=\"%s\"",
            redis ? redis->errstr : "out of memory");
    if (redisLibevAttach(loop, redis) != REDIS_OK ||
        redisAsyncSetConnectCallback(redis, on_connect) != REDIS_OK ||
        redisAsyncSetDisconnectCallback(redis, on_disconnect) != REDIS_OK)
        die(EXIT_REDIS_LOST, "level=fatal event=redis_connect "
                             "error=\"cannot watch the connection\"");
    watchdog_start(loop, cfg->redis_timeout_ms, ping);
}
