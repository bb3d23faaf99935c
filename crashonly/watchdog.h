/* watchdog.h: a Redis that answers late is a crash. */
#ifndef CRASHONLY_WATCHDOG_H
#define CRASHONLY_WATCHDOG_H

#include <ev.h>

/* Check every quarter of timeout_ms that no command waits longer than
 * timeout_ms for its reply, and end the process with EXIT_REDIS_SLOW (or
 * EXIT_REDIS_LOST before the connection is up) when one does. After a
 * second without a command, call ping(), which sends one: a silent Redis
 * is found out with no clients too. */
void watchdog_start(struct ev_loop *loop, int timeout_ms, void (*ping)(void));

/* A command was sent; a reply came; the connection is up. */
void watchdog_sent(void);
void watchdog_got(void);
void watchdog_connected(void);

#endif
