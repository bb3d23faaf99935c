/* conn.c: read requests, ask the store, write responses, keep-alive and
 * pipelining in order, and a deadline for every state. */
#include "conn.h"
#include "http.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_SIZE 16384 /* one read(2), shared by all connections */

struct conn {
    ev_io io;        /* the socket: EV_READ, or EV_WRITE while out waits */
    ev_timer timer;  /* the deadline of the current state */
    int fd;          /* -1 once closed */
    int waiting;     /* a store reply is due: not to be freed before it */
    int close_after; /* close once out is written */
    struct http_req req;
    struct buf in;     /* input after a request that waits for Redis */
    struct buf out;    /* responses not yet written */
    size_t out_off;    /* how much of out is written */
    struct conn *next; /* on the list of closed connections */
};

static struct ev_loop *loop;
static const struct config *cfg;
static char rbuf[READ_SIZE];
static unsigned open_conns;
static struct conn *dead; /* closed, to be freed by conn_reap() */

void conn_setup(struct ev_loop *l, const struct config *c)
{
    loop = l;
    cfg = c;
}

unsigned conn_count(void)
{
    return open_conns;
}

/* Close the socket now; the struct is freed by conn_reap(), and not
 * before a Redis reply it waits for has come back. */
static void conn_close(struct conn *c)
{
    if (c->fd < 0)
        return;
    ev_io_stop(loop, &c->io);
    ev_timer_stop(loop, &c->timer);
    close(c->fd);
    c->fd = -1;
    open_conns--;
    if (!c->waiting) {
        c->next = dead;
        dead = c;
    }
}

void conn_reap(void)
{
    while (dead != NULL) {
        struct conn *c = dead;

        dead = c->next;
        free(c->in.p);
        free(c->out.p);
        free(c);
    }
}

static void deadline(struct conn *c, int ms)
{
    c->timer.repeat = ms / 1000.0;
    ev_timer_again(loop, &c->timer);
}

/* Watch the socket for events (0: not at all). */
static void watch(struct conn *c, int events)
{
    if ((c->io.events & (EV_READ | EV_WRITE)) == events &&
        ev_is_active(&c->io) == (events != 0))
        return;
    ev_io_stop(loop, &c->io);
    if (events) {
        ev_io_set(&c->io, c->fd, events);
        ev_io_start(loop, &c->io);
    }
}

/* Write what out holds. Returns 0, or -1 when the connection closed. */
static int write_out(struct conn *c)
{
    int sent = send_some(c->fd, c->out.p, c->out.len, &c->out_off);

    if (sent == 0) {
        watch(c, EV_WRITE);
        deadline(c, cfg->header_timeout_ms);
        return 0;
    }
    if (sent < 0) {
        conn_close(c);
        return -1;
    }
    c->out.len = c->out_off = 0;
    if (c->close_after) {
        conn_close(c);
        return -1;
    }
    /* Reading stays on while a Redis reply is due: stopping and starting
     * the watcher costs epoll_ctl calls on every request. */
    watch(c, EV_READ);
    if (!c->waiting && !c->req.busy)
        deadline(c, cfg->idle_timeout_ms);
    return 0;
}

/* Answer r, or send it to the store. Returns 1 when a reply is due. */
static int act(struct conn *c)
{
    int status;
    switch (http_plan(&c->req, &status)) {
    case ACT_HIT:
        store_hit(c->req.id, c->req.id_len, c);
        break;
    case ACT_HITS:
        store_hits(c);
        break;
    case ACT_READY:
        store_ready(c);
        break;
    case ACT_REPLY:
        http_reply_status(&c->out, &c->req, status);
        return 0;
    }
    c->waiting = 1;
    return 1;
}

/* Parse and serve len bytes of input, in order, then write the answers.
 * Stops at a request that waits for Redis and keeps the rest in c->in. */
static void consume(struct conn *c, const char *data, size_t len)
{
    while (len > 0 && !c->close_after) {
        size_t used;
        int was_busy = c->req.busy;
        enum http_result r = http_feed(&c->req, data, len, &used);

        if (!was_busy && c->req.busy)
            deadline(c, cfg->header_timeout_ms);
        data += used;
        len -= used;
        if (c->req.continue_due) { /* the headers are in, the body is not */
            http_reply_continue(&c->out);
            c->req.continue_due = 0;
        }
        if (r == HTTP_MORE)
            break;
        if (r == HTTP_BAD) {
            http_reply_status(&c->out, &c->req, c->req.status);
            c->close_after = 1;
            break;
        }
        if (act(c)) {
            c->in.len = 0;
            buf_put(&c->in, data, len);
            break;
        }
        if (!c->req.keepalive)
            c->close_after = 1;
        http_next(&c->req);
    }
    write_out(c);
}

void conn_reply(void *who, const struct store_reply *r)
{
    struct conn *c = who;
    size_t len;

    co_assert(c->waiting);
    c->waiting = 0;
    if (c->fd < 0) { /* closed while it waited: free it now */
        c->next = dead;
        dead = c;
        return;
    }
    switch (r->type) {
    case STORE_NUMBER:
        http_reply_hit(&c->out, &c->req, cfg->worker, r->number);
        break;
    case STORE_JSON:
        http_reply_json(&c->out, &c->req, r->str, r->len);
        break;
    case STORE_READY:
        http_reply_status(&c->out, &c->req, 200);
        break;
    case STORE_ERROR:
        http_reply_status(&c->out, &c->req, 503);
        break;
    }
    if (!c->req.keepalive)
        c->close_after = 1;
    http_next(&c->req);

    /* The input kept back is at most one read: go on with it from rbuf. */
    len = c->in.len;
    co_assert(len <= sizeof(rbuf));
    if (len > 0)
        memcpy(rbuf, c->in.p, len);
    c->in.len = 0;
    consume(c, rbuf, len);
}

static void on_io(struct ev_loop *l, ev_io *w, int revents)
{
    struct conn *c = w->data;
    ssize_t n;

    (void)l;
    if (revents & EV_WRITE) {
        write_out(c);
        return;
    }
    if (c->waiting) { /* more while a reply is due: read it after that */
        watch(c, 0);
        return;
    }
    n = recv(c->fd, rbuf, sizeof(rbuf), 0);
    if (n > 0)
        consume(c, rbuf, (size_t)n);
    else if (n == 0 ||
             (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        conn_close(c); /* closed by the client, or reset */
}

static void on_timer(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)l;
    (void)revents;
    conn_close(w->data);
}

void conn_open(int fd)
{
    struct conn *c = xmalloc(sizeof(*c));

    memset(c, 0, sizeof(*c));
    c->fd = fd;
    http_init(&c->req);
    ev_io_init(&c->io, on_io, fd, EV_READ);
    c->io.data = c;
    ev_io_start(loop, &c->io);
    ev_init(&c->timer, on_timer);
    c->timer.data = c;
    deadline(c, cfg->idle_timeout_ms);
    open_conns++;
}
