/* server.h: the listening socket and accepting clients. */
#ifndef CRASHONLY_SERVER_H
#define CRASHONLY_SERVER_H

#include <ev.h>

#include "config.h"

/* Bind and listen on BIND:PORT, on the first of its addresses that takes
 * it; ends the process with EXIT_CONFIG if BIND does not resolve, and with
 * EXIT_SYSCALL if no address takes it (a port in use, say). Returns the
 * listening socket. */
int server_listen(const struct config *cfg);

/* Start accepting on fd. Clients past MAX_CONNS, or past the file
 * descriptors there are, get a 503 and a close while accepting goes on.
 * Only when accept(2) itself fails otherwise (ENOBUFS, ENOMEM, or no
 * descriptor left to shed with) does accepting pause, for 100 ms, with
 * one log line: a listening socket that stays readable would spin. */
void server_start(struct ev_loop *loop, int fd, const struct config *cfg);

#endif
