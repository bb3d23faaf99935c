/* link.h: the one connection to Redis, on which the commands of all
 * clients pipeline, and what its replies mean to the process. */
#ifndef CRASHONLY_LINK_H
#define CRASHONLY_LINK_H

#include <ev.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stddef.h>

#include "config.h"

/* Connect to the master: cfg's Redis, or the one its Sentinels name.
 * Commands may be queued at once: they go once the connection is up. A
 * connection that fails or closes ends the process with EXIT_REDIS_LOST,
 * and a reply later than REDIS_TIMEOUT_MS with EXIT_REDIS_SLOW (the
 * watchdog): losing Redis is a crash. */
void link_open(struct ev_loop *loop, const struct config *cfg);

/* Queue a command, as hiredis's format (link_command) or already in RESP
 * (link_formatted); fn gets its reply with privdata, and must call
 * link_got() first. hiredis refusing the command ends the process. */
void link_command(redisCallbackFn *fn, void *privdata, const char *fmt, ...);
void link_formatted(redisCallbackFn *fn, void *privdata, const char *cmd,
                    size_t len);

/* Write the commands queued so far now, not when the loop next waits. */
void link_flush(void);

/* A reply came: every callback's first call. NULL means hiredis is
 * tearing the connection down: the process ends. hiredis frees r after
 * the callback returns. */
void link_got(const redisReply *r);

/* An error reply to a client's command. A missing function (FUNCTION
 * FLUSH) ends the process, whose restart reloads it; so do a master turned
 * replica (READONLY: a failover) and one with no replica (NOREPLICAS),
 * whose restart asks the Sentinels where the master is now. Other errors
 * are logged, one line a second at most: the clients see them as 503s. */
void link_error(const redisReply *r);

/* Log text as link_error() logs an error: one line a second at most. */
void link_log_error(const char *text);

#endif
