/* conn.c: read requests, ask the store, write responses, keep-alive and
 * pipelining in order, and a deadline for every state. */
#include "conn.h"
#include "http.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "reply.h"
#include "route.h"
#include "send.h"
#include "store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_SIZE 16384 /* one read(2), shared by all connections */

/* Where a connection is in its requests. Writing is apart from this: out
 * may hold answers not yet written (EV_WRITE) in any state but CLOSED.
 *
 *   IDLE -> READING -> (answered) IDLE, or WAITING for the store
 *   WAITING -> (the reply) IDLE, or RESUMING with input kept back
 *   RESUMING -> (conn_resume) IDLE, READING or WAITING again
 *   any -> CLOSING (an answer that closes) -> CLOSED once written
 *   any -> CLOSED (a fault, a deadline), or ORPHAN while WAITING
 *   ORPHAN -> (the reply) CLOSED */
enum conn_state {
    CONN_IDLE,     /* between requests: the idle deadline */
    CONN_READING,  /* a request has begun: the header deadline */
    CONN_WAITING,  /* the store's reply to a request is due */
    CONN_RESUMING, /* the reply came; input kept back waits for
                      conn_resume() */
    CONN_CLOSING,  /* no more requests: close once out is written */
    CONN_ORPHAN,   /* closed while WAITING: freed once the reply comes */
    CONN_CLOSED    /* closed, on the list conn_reap() frees */
};

struct conn {
    ev_io io;       /* the socket: EV_READ, or EV_WRITE while out waits */
    ev_timer timer; /* the deadline of the current state */
    int fd;
    enum conn_state state;
    struct http_parser http;
    struct buf in;       /* input after a request that waits for Redis */
    struct buf out;      /* responses not yet written */
    size_t out_off;      /* how much of out is written */
    struct conn *next;   /* on the list of closed connections */
    struct conn *resume; /* on the list of RESUMING connections */
    enum metrics_route route; /* the request's, while WAITING */
};

static struct ev_loop *loop;
static const struct config *cfg;
static char rbuf[READ_SIZE];
static unsigned open_conns;
static struct conn *dead;     /* CLOSED, to be freed by conn_reap() */
static struct conn *resuming; /* RESUMING, for conn_resume() */
static struct buf metrics_text; /* GET /metrics's body, made anew each time */

void conn_setup(struct ev_loop *l, const struct config *c)
{
    loop = l;
    cfg = c;
}

unsigned conn_count(void)
{
    return open_conns;
}

static void to_dead(struct conn *c)
{
    c->state = CONN_CLOSED;
    c->next = dead;
    dead = c;
}

/* Close the socket now; the struct is freed by conn_reap(), and not
 * before a Redis reply it waits for has come back. */
static void conn_close(struct conn *c)
{
    if (c->state == CONN_ORPHAN || c->state == CONN_CLOSED)
        return;
    ev_io_stop(loop, &c->io);
    ev_timer_stop(loop, &c->timer);
    close(c->fd);
    open_conns--;
    if (c->state == CONN_WAITING)
        c->state = CONN_ORPHAN;
    else
        to_dead(c);
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

/* Write what out holds; the connection may close. */
static void write_out(struct conn *c)
{
    int sent = send_some(c->fd, c->out.p, c->out.len, &c->out_off);

    if (sent == 0) {
        watch(c, EV_WRITE);
        deadline(c, cfg->header_timeout_ms);
        return;
    }
    if (sent < 0 || c->state == CONN_CLOSING) {
        conn_close(c);
        return;
    }
    c->out.len = c->out_off = 0;
    /* Reading stays on while a Redis reply is due: stopping and starting
     * the watcher costs epoll_ctl calls on every request. */
    watch(c, EV_READ);
    if (c->state == CONN_IDLE)
        deadline(c, cfg->idle_timeout_ms);
}

/* The request answered: the next one may come, unless it said close. */
static void answered(struct conn *c)
{
    c->state = c->http.req.keepalive ? CONN_IDLE : CONN_CLOSING;
    http_next(&c->http);
}

/* Serve the complete request: answer it now, or ask the store and wait. */
static void act(struct conn *c)
{
    struct http_req *r = &c->http.req;
    int status;

    c->route = route_find(r);
    switch (route_act(r, c->route, &status)) {
    case ROUTE_HIT:
        store_hit(r->id, r->id_len, c);
        break;
    case ROUTE_HITS:
        store_hits(c);
        break;
    case ROUTE_READY:
        store_ready(c);
        break;
    case ROUTE_REPLY:
        reply_status(&c->out, r, status);
        metrics_response(c->route, status);
        answered(c);
        return;
    case ROUTE_METRICS:
        metrics_text.len = 0;
        metrics_render(&metrics_text, open_conns);
        reply_body(&c->out, r, METRICS_CONTENT_TYPE, metrics_text.p,
                   metrics_text.len);
        metrics_response(c->route, 200);
        answered(c);
        return;
    }
    c->state = CONN_WAITING;
}

/* Parse and serve len bytes of input, in order, then write the answers.
 * Stops at a request that waits for Redis and keeps the rest in c->in. */
static void consume(struct conn *c, const char *data, size_t len)
{
    while (len > 0 &&
           (c->state == CONN_IDLE || c->state == CONN_READING)) {
        size_t used;
        enum http_result r = http_feed(&c->http, data, len, &used);

        if (c->state == CONN_IDLE && c->http.begun) {
            c->state = CONN_READING;
            deadline(c, cfg->header_timeout_ms);
        }
        data += used;
        len -= used;
        if (c->http.req.continue_due) { /* the headers are in, not the body */
            reply_continue(&c->out);
            c->http.req.continue_due = 0;
        }
        if (r == HTTP_BAD) {
            reply_status(&c->out, &c->http.req, c->http.req.status);
            metrics_response(METRICS_OTHER, c->http.req.status);
            c->state = CONN_CLOSING;
        } else if (r == HTTP_DONE) {
            act(c);
        }
    }
    if (c->state == CONN_WAITING) {
        c->in.len = 0;
        buf_put(&c->in, data, len);
    }
    write_out(c);
}

void conn_reply(void *who, const struct store_reply *r)
{
    struct conn *c = who;

    if (c->state == CONN_ORPHAN) { /* closed while it waited */
        to_dead(c);
        return;
    }
    co_assert(c->state == CONN_WAITING);
    switch (r->type) {
    case STORE_NUMBER:
        reply_hit(&c->out, &c->http.req, cfg->worker, r->number);
        break;
    case STORE_JSON:
        reply_json(&c->out, &c->http.req, r->str, r->len);
        break;
    case STORE_READY:
        reply_status(&c->out, &c->http.req, 200);
        break;
    case STORE_ERROR:
        reply_status(&c->out, &c->http.req, 503);
        break;
    }
    metrics_response(c->route, r->type == STORE_ERROR ? 503 : 200);
    answered(c);
    if (c->state == CONN_IDLE && c->in.len > 0) {
        c->state = CONN_RESUMING; /* its answers go out with the next ones */
        c->resume = resuming;
        resuming = c;
        return;
    }
    write_out(c);
}

void conn_resume(void)
{
    while (resuming != NULL) {
        struct conn *c = resuming;
        size_t len = c->in.len;

        resuming = c->resume;
        if (c->state != CONN_RESUMING) /* closed since */
            continue;
        c->state = CONN_IDLE;
        /* The input kept back is at most one read: parse it from rbuf,
         * as if just read. */
        co_assert(len <= sizeof(rbuf));
        memcpy(rbuf, c->in.p, len);
        c->in.len = 0;
        consume(c, rbuf, len);
    }
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
    /* More while a reply is due: read it after that. */
    if (c->state == CONN_WAITING || c->state == CONN_RESUMING) {
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
    c->state = CONN_IDLE;
    http_init(&c->http);
    ev_io_init(&c->io, on_io, fd, EV_READ);
    c->io.data = c;
    ev_io_start(loop, &c->io);
    ev_init(&c->timer, on_timer);
    c->timer.data = c;
    deadline(c, cfg->idle_timeout_ms);
    open_conns++;
}
