/* sentinel.c: one question to the Sentinels at start-up: where is the
 * master? Failover needs nothing more from the worker: a master that goes
 * away, or turns replica, is a crash (store.c), and the restart asks
 * again. */
#include "sentinel.h"
#include "constants.h"
#include "log.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Ask one Sentinel. Returns 1 with *out filled, 0 when it knows no such
 * master, -1 when it cannot be asked (its reason in why). */
static int ask(const struct host_port *s, const struct config *cfg,
               struct host_port *out, char *why, size_t whylen)
{
    int ms = cfg->redis_timeout_ms / 4;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(s->host, s->port, tv);
    redisReply *r = NULL;
    int got = -1;

    if (c == NULL || c->err) {
        snprintf(why, whylen, "%s", c ? c->errstr : "out of memory");
    } else if (redisSetTimeout(c, tv) != REDIS_OK ||
               (r = redisCommand(c, "SENTINEL get-master-addr-by-name %s",
                                 cfg->master)) == NULL) {
        snprintf(why, whylen, "%s", c->errstr[0] ? c->errstr : "no reply");
    } else if (r->type == REDIS_REPLY_NIL) {
        got = 0;
    } else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
               r->element[0]->type == REDIS_REPLY_STRING &&
               r->element[1]->type == REDIS_REPLY_STRING &&
               r->element[0]->len < sizeof(out->host) &&
               config_parse_int(r->element[1]->str, 1, 65535, &out->port) ==
                   0) {
        memcpy(out->host, r->element[0]->str, r->element[0]->len + 1);
        got = 1;
    } else {
        snprintf(why, whylen, "%s",
                 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    }
    if (r != NULL)
        freeReplyObject(r);
    if (c != NULL)
        redisFree(c);
    return got;
}

void sentinel_find_master(const struct config *cfg, struct host_port *out)
{
    int n = cfg->nsentinels, first = (int)(getpid() % n), answered = 0;
    char why[160] = "";

    for (int i = 0; i < n; i++) {
        const struct host_port *s = &cfg->sentinels[(first + i) % n];
        int got = ask(s, cfg, out, why, sizeof(why));

        if (got == 1) {
            log_line("level=info event=sentinel_master sentinel=%s:%d "
                     "master=%s host=%s port=%d",
                     s->host, s->port, cfg->master, out->host, out->port);
            return;
        }
        if (got == 0)
            answered++;
        else
            log_line("level=error event=sentinel_unreachable sentinel=%s:%d "
                     "error=\"%s\"",
                     s->host, s->port, why);
    }
    if (answered == n)
        die(EXIT_CONFIG,
            "level=fatal event=sentinel_no_master master=%s "
            "error=\"no Sentinel of REDIS_SENTINELS knows this master "
            "(REDIS_MASTER_NAME)\"",
            cfg->master);
    die(EXIT_REDIS_LOST,
        "level=fatal event=sentinel_lost master=%s answered=%d of=%d", cfg->master,
        answered, n);
}
