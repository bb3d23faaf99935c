/* conn.h: a client connection's life, from accept to close. */
#ifndef CRASHONLY_CONN_H
#define CRASHONLY_CONN_H

#include <ev.h>
#include <stddef.h>

#include "config.h"
#include "store.h"

void conn_setup(struct ev_loop *loop, const struct config *cfg);

/* Serve the accepted, non-blocking socket fd; the connection owns it. */
void conn_open(int fd);

/* The store's reply to a connection's request: who is that connection.
 * The answer is written now; requests read behind it are parsed by
 * conn_resume(), not from inside the store's callback. */
void conn_reply(void *who, const struct store_reply *r);

/* Parse and serve the input kept back behind the requests answered since
 * the last call: once a loop pass, before store_flush(). */
void conn_resume(void);

/* Free the connections closed since the last call: the one place where
 * connections are freed, once a loop pass, never inside their callbacks. */
void conn_reap(void);

/* Connections open now. */
unsigned conn_count(void);

#endif
