/* send.h: writing to a non-blocking socket. */
#ifndef LIB_SEND_H
#define LIB_SEND_H

#include <stddef.h>

/* Send b[*off..len) on a non-blocking socket, advancing *off. Returns 1
 * when all is sent, 0 when the socket is full (wait for EV_WRITE), or -1
 * on an error, with errno set. Never raises SIGPIPE. */
int send_some(int fd, const char *b, size_t len, size_t *off);

#endif
