/* server.c: listen, accept, and shed what is past the limits. */
#include "server.h"
#include "conn.h"
#include "log.h"
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPTS_PER_PASS 64  /* then let the clients we have be served */
#define ACCEPT_PAUSE     0.1 /* s without accepting when accept(2) fails */

static const char busy_reply[] =
    "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
    "Content-Length: 0\r\nConnection: close\r\n\r\n";

static ev_io acceptor;
static ev_timer resume; /* restarts accepting after a failed accept */
static int spare = -1;  /* a descriptor held back to shed with */
static const struct config *cfg;

/* A listening socket on ai, or -1 with errno set and *what naming the
 * call that failed. */
static int listen_on(const struct addrinfo *ai, const char **what)
{
    int fd, one = 1, saved;

    *what = "socket";
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                ai->ai_protocol);
    if (fd < 0)
        return -1;
    *what = "setsockopt"; /* SO_REUSEADDR */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
        goto fail;
    *what = "bind";
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
        goto fail;
    *what = "listen";
    if (listen(fd, 1024) < 0)
        goto fail;
    return fd;
fail:
    saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

/* As redis's anet.c: every address BIND resolves to is tried in turn,
 * and the first that takes a listening socket is used. */
int server_listen(const struct config *c)
{
    struct addrinfo hints, *ai, *p;
    const char *what = "getaddrinfo";
    char port[8];
    int fd = -1, e, err = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%d", c->port);
    e = getaddrinfo(c->bind, port, &hints, &ai);
    if (e != 0)
        die(EXIT_CONFIG, "level=fatal event=bad_bind bind=%s error=\"%s\"",
            c->bind, gai_strerror(e));
    for (p = ai; p != NULL && fd < 0; p = p->ai_next) {
        fd = listen_on(p, &what);
        if (fd < 0)
            err = errno;
    }
    freeaddrinfo(ai);
    if (fd < 0)
        die(EXIT_SYSCALL,
            "level=fatal event=%s bind=%s port=%d error=\"%s\"",
            what, c->bind, c->port, strerror(err));
    return fd;
}

/* Tell a client we cannot take it, as far as it will listen, and close. */
static void shed(int fd)
{
    if (send(fd, busy_reply, sizeof(busy_reply) - 1,
             MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
        /* It will see the close. */
    }
    close(fd);
}

/* Out of descriptors: give up the spare for one accept, shed that client,
 * and take the spare back. Returns -1 if accepting must pause. */
static int shed_one(int lfd)
{
    int fd;

    if (spare < 0)
        return -1;
    close(spare);
    fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0) {
        shed(fd);
        metrics_refused(METRICS_DESCRIPTORS);
    }
    spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return 0;
}

static void on_resume(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    if (spare < 0)
        spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ev_io_start(loop, &acceptor);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    for (int i = 0; i < ACCEPTS_PER_PASS; i++) {
        int one = 1;
        int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if ((errno == EMFILE || errno == ENFILE) && shed_one(w->fd) == 0)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                log_line("level=error event=accept error=\"%s\"",
                         strerror(errno));
                ev_io_stop(loop, &acceptor);
                ev_timer_start(loop, &resume);
            }
            return;
        }
        if (conn_count() >= (unsigned)cfg->max_conns) {
            shed(fd);
            metrics_refused(METRICS_MAX_CONNS);
            continue;
        }
        /* Without it an answer could wait for the client's ACK (Nagle);
         * a socket that refuses it is broken: that client is closed. */
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
            log_line("level=error event=setsockopt option=TCP_NODELAY "
                     "error=\"%s\"",
                     strerror(errno));
            close(fd);
            continue;
        }
        conn_open(fd);
    }
}

void server_start(struct ev_loop *loop, int fd, const struct config *c)
{
    cfg = c;
    spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ev_timer_init(&resume, on_resume, ACCEPT_PAUSE, 0.);
    ev_io_init(&acceptor, on_accept, fd, EV_READ);
    ev_io_start(loop, &acceptor);
}
