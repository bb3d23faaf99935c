/* server.h: the listening socket and accepting clients. */
#ifndef CRASHONLY_SERVER_H
#define CRASHONLY_SERVER_H

#include <ev.h>

#include "config.h"

/* Bind and listen on BIND:PORT; ends the process with EXIT_SYSCALL if it
 * cannot (a port in use, say). Returns the listening socket. */
int server_listen(const struct config *cfg);

/* Start accepting on fd. Clients past MAX_CONNS, or past the file
 * descriptors there are, get a 503 and a close: accepting never stops. */
void server_start(struct ev_loop *loop, int fd, const struct config *cfg);

#endif
