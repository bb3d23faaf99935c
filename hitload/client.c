/* client.c: connections and requests. Each connection carries one request
 * at a time, over keep-alive; a failed attempt (connect, reset, timeout,
 * 5xx) closes the socket and, after a backoff, tries again with the same
 * Idempotency-Key on a fresh connection. With several entry points the
 * connections start spread over them (round robin), and a connection
 * whose entry refused it or timed out moves to the next entry, as a
 * client with several DNS answers does; after a reset or a 5xx it stays
 * (the entry answered: what failed was behind it). */
#include "client.h"
#include "output.h"
#include "response.h"
#include "stats.h"
#include "buf.h"
#include "log.h"
#include "mem.h"
#include "send.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_SIZE 65536 /* one recv(2), shared by all connections */
#define KEY_ROOM  (OPTS_RUN_MAX + 32) /* "<run>-<seq>\r\n\r\n" */

enum cstate {
    C_IDLE,       /* no request; the socket, if any, is kept alive */
    C_CONNECTING, /* connect(2) in progress */
    C_SENDING,    /* the request is partly written */
    C_READING,    /* waiting for the whole response */
    C_BACKOFF     /* an attempt failed; the timer starts the next */
};

struct conn {
    ev_io io;       /* the socket: EV_READ, or EV_WRITE until written */
    ev_timer timer; /* the attempt's deadline, or the backoff's end */
    int fd;         /* -1: none; the next attempt connects */
    enum cstate state;
    int entry;      /* the entry point the next attempt goes to; the
                       socket's, while there is one */
    int at;         /* the entry point the last attempt went to */
    struct response resp;  /* the response parser of this socket */
    long long seq;     /* the request: its key is <run>-<seq> */
    int attempts;      /* attempts started for it */
    int status;        /* the last attempt's answer; 0: none */
    uint64_t intended; /* when it should have gone out, us */
    uint64_t sent;     /* when its first attempt began, us: before its
                          first byte was written */
    char key[KEY_ROOM]; /* "<run>-<seq>\r\n\r\n", the request's end */
    size_t key_len;
    char *out;         /* the attempt: its entry's prefix, then the key */
    size_t out_len;    /* bytes of out to send */
    size_t out_off;    /* bytes of out sent */
    struct conn *next; /* on the free list, while idle */
};

static struct ev_loop *loop;
static const struct opts *opt;
static void (*end_cb)(void);
static struct conn *conns;      /* opt->connections of them */
static struct conn *idle_conns; /* free list: connections with no request */
static int inflight;            /* connections with a request */
static long long next_seq;      /* the next request's number */
static uint64_t t0;             /* the run's start, us */
static int stopping;            /* start nothing new */
static int drain_over;          /* the drain's bound passed */
static int ended;
static struct buf prefix[OPTS_ENTRIES_MAX]; /* each entry's request up to
                                               the key */
static uint64_t rng;       /* xorshift state, for the jitter */
static ev_prepare prepare; /* starts requests, once per loop pass */
static ev_idle spin;       /* keeps the loop from blocking: more due */
static ev_timer sched;     /* open loop: the next request's time */
static ev_timer drain;     /* the drain's bound */
static char rbuf[READ_SIZE];

uint64_t client_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int client_inflight(void)
{
    return inflight;
}

static uint64_t rand64(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

/* Watch the socket for events, touching the kernel only on a change. */
static void watch(struct conn *c, int events)
{
    if (ev_is_active(&c->io) && (c->io.events & (EV_READ | EV_WRITE)) == events)
        return;
    ev_io_stop(loop, &c->io);
    ev_io_set(&c->io, c->fd, events);
    ev_io_start(loop, &c->io);
}

static void close_fd(struct conn *c)
{
    if (c->fd < 0)
        return;
    ev_io_stop(loop, &c->io);
    close(c->fd);
    c->fd = -1;
}

/* The request is over, answered or not: count it, write its ledger line,
 * and put the connection back on the free list. */
static void finish(struct conn *c)
{
    uint64_t now = client_now_us();
    uint64_t lat = now > c->intended ? now - c->intended : 0;
    int answered = c->status != 0;
    long long hits = answered ? c->resp.hits : -1;

    stats_finished(c->status, hits, c->at, lat, now);
    output_ledger(opt->run, c->seq, c->attempts, c->status, hits,
                  answered ? c->resp.worker : "", lat, c->sent, now);
    c->state = C_IDLE; /* the timer stops itself when it next fires */
    inflight--;
    c->next = idle_conns;
    idle_conns = c;
}

/* The wait before attempt n+1: --backoff-ms doubled per attempt, capped
 * at BACKOFF_MAX_MS, with jitter down to half of it. In seconds. */
static double backoff(int n)
{
    uint64_t ms = (uint64_t)opt->backoff_ms, half_us, us;

    for (int i = 1; i < n && ms < BACKOFF_MAX_MS; i++)
        ms *= 2;
    if (ms > BACKOFF_MAX_MS)
        ms = BACKOFF_MAX_MS;
    half_us = ms * 1000 / 2;
    us = half_us + (half_us ? rand64() % (half_us + 1) : 0);
    return us ? (double)us / 1e6 : 1e-6;
}

/* An attempt failed: close the socket; retry after a backoff, or end the
 * request when its attempts or the drain are used up. An entry that
 * refused or did not answer in time is left for the next one. */
static void fail(struct conn *c, enum fail_kind kind)
{
    stats_failed(kind, c->at, client_now_us());
    close_fd(c);
    if (kind == FAIL_CONNECT || kind == FAIL_TIMEOUT)
        c->entry = (c->entry + 1) % opt->entries;
    if (c->attempts >= opt->attempts || drain_over) {
        finish(c);
        return;
    }
    c->state = C_BACKOFF;
    c->timer.repeat = backoff(c->attempts);
    ev_timer_again(loop, &c->timer);
}

/* Write what is left of the request; then wait for the answer. */
static void send_req(struct conn *c)
{
    int sent;

    c->state = C_SENDING;
    sent = send_some(c->fd, c->out, c->out_len, &c->out_off);
    if (sent == 0) {
        watch(c, EV_WRITE);
        return;
    }
    if (sent < 0) {
        fail(c, FAIL_RESET);
        return;
    }
    c->state = C_READING;
    watch(c, EV_READ);
}

/* A fresh socket and a non-blocking connect(2). A failure to get a socket
 * (no file descriptors, no memory) is the environment's: exit 111. */
static void connect_fd(struct conn *c)
{
    const struct entry *e = &opt->entry[c->entry];
    int one = 1;
    int fd = socket(e->addr.ss_family,
                    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        die(EXIT_SYSCALL, "hitload: socket: %s", strerror(errno));
    /* Only a latency knob: a failure costs speed, never correctness. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->fd = fd;
    response_init(&c->resp);
    if (connect(fd, (const struct sockaddr *)&e->addr, e->addrlen) == 0) {
        send_req(c);
    } else if (errno == EINPROGRESS || errno == EINTR) {
        c->state = C_CONNECTING;
        watch(c, EV_WRITE);
    } else {
        fail(c, FAIL_CONNECT);
    }
}

/* Start an attempt of c's request on its entry point, under a fresh
 * deadline: that entry's request line and Host, then the key. */
static void attempt(struct conn *c)
{
    const struct buf *p = &prefix[c->entry];

    c->attempts++;
    c->status = 0;
    c->at = c->entry;
    memcpy(c->out, p->p, p->len);
    memcpy(c->out + p->len, c->key, c->key_len);
    c->out_len = p->len + c->key_len;
    c->out_off = 0;
    if (c->attempts > 1)
        stats_retry(client_now_us());
    c->timer.repeat = opt->timeout_ms / 1000.0;
    ev_timer_again(loop, &c->timer);
    if (c->fd < 0)
        connect_fd(c);
    else
        send_req(c);
}

/* Start request seq on c, due at intended. */
static void start(struct conn *c, long long seq, uint64_t intended)
{
    char *k = c->key;
    size_t n = strlen(opt->run);
    char digits[24];
    int d = 0;

    c->seq = seq;
    c->attempts = 0;
    c->intended = intended;
    memcpy(k, opt->run, n);
    k[n++] = '-';
    do {
        digits[d++] = (char)('0' + seq % 10);
        seq /= 10;
    } while (seq > 0);
    while (d > 0)
        k[n++] = digits[--d];
    memcpy(k + n, "\r\n\r\n", 4);
    c->key_len = n + 4;
    inflight++;
    stats.attempted++;
    c->sent = client_now_us();
    attempt(c);
}

/* A whole response came. A 5xx is a failed attempt; anything else ends
 * the request. dirty: bytes followed it, or the peer closed. */
static void answered(struct conn *c, int dirty)
{
    int st = c->resp.status;

    c->status = st;
    if (st >= 500 && st <= 599) {
        fail(c, FAIL_5XX);
        return;
    }
    if (dirty || !c->resp.keep_alive)
        close_fd(c);
    finish(c);
}

/* Read what the socket has. One recv(2) per readiness: a response nearly
 * always fits, and the loop comes back for the rest. */
static void read_resp(struct conn *c)
{
    ssize_t n = recv(c->fd, rbuf, sizeof(rbuf), 0);
    size_t used;

    if (n > 0) {
        enum response_result r = response_feed(&c->resp, rbuf, (size_t)n, &used);

        if (r == RESPONSE_DONE)
            answered(c, used < (size_t)n);
        else if (r == RESPONSE_BAD)
            fail(c, FAIL_RESET);
    } else if (n == 0) {
        if (response_eof(&c->resp) == RESPONSE_DONE)
            answered(c, 1);
        else
            fail(c, FAIL_RESET);
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        fail(c, FAIL_RESET);
    }
}

static void on_io(struct ev_loop *l, ev_io *w, int revents)
{
    struct conn *c = w->data;
    int err = 0;
    socklen_t len = sizeof(err);

    (void)l;
    switch (c->state) {
    case C_CONNECTING:
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err != 0)
            fail(c, FAIL_CONNECT);
        else
            send_req(c);
        break;
    case C_SENDING:
        send_req(c);
        break;
    case C_READING:
        if (revents & EV_READ)
            read_resp(c);
        break;
    case C_IDLE:
        /* A kept-alive socket the server closed (or wrote to): drop it
         * quietly, so the next request does not pay for it. */
        if (recv(c->fd, rbuf, sizeof(rbuf), 0) < 0 &&
            (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            break;
        close_fd(c);
        break;
    case C_BACKOFF:
        co_assert(!"a socket watched while backing off");
    }
}

static void on_timer(struct ev_loop *l, ev_timer *w, int revents)
{
    struct conn *c = w->data;

    (void)revents;
    if (c->state == C_BACKOFF)
        attempt(c);
    else if (c->state == C_IDLE)
        ev_timer_stop(l, w);
    else
        fail(c, FAIL_TIMEOUT);
}

static void end_if_done(void)
{
    int no_more = stopping || (opt->max_reqs && next_seq >= opt->max_reqs);

    if (no_more && inflight == 0 && !ended) {
        ended = 1;
        ev_timer_stop(loop, &drain);
        ev_timer_stop(loop, &sched);
        ev_prepare_stop(loop, &prepare);
        end_cb();
    }
}

/* Start what is due on idle connections: at once in closed loop; in open
 * loop, request i at t0 + i/rate, late ones as soon as a connection is
 * free (their latency still counts from t0 + i/rate). At most one start
 * per connection per pass, so that a dead target cannot spin here. */
static void pump(void)
{
    uint64_t now = client_now_us();
    int budget = opt->connections;

    while (idle_conns != NULL && !stopping &&
           (opt->max_reqs == 0 || next_seq < opt->max_reqs)) {
        uint64_t at = now;
        struct conn *c;

        if (opt->rate > 0) {
            at = t0 + (uint64_t)((double)next_seq * 1e6 / opt->rate);
            if (at > now) {
                ev_timer_stop(loop, &sched);
                ev_timer_set(&sched, (double)(at - now) / 1e6, 0.);
                ev_timer_start(loop, &sched);
                break;
            }
        }
        if (budget-- == 0) {
            ev_idle_start(loop, &spin);
            break;
        }
        c = idle_conns;
        idle_conns = c->next;
        start(c, next_seq++, at);
    }
    end_if_done();
}

static void on_prepare(struct ev_loop *l, ev_prepare *w, int revents)
{
    (void)l;
    (void)w;
    (void)revents;
    pump();
}

/* Wake-ups only: the work is in pump(), run before the loop blocks. */
static void on_spin(struct ev_loop *l, ev_idle *w, int revents)
{
    (void)revents;
    ev_idle_stop(l, w);
}

static void on_sched(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)l;
    (void)w;
    (void)revents;
}

/* The drain's bound: what is still in flight was never answered. */
static void on_drain(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)l;
    (void)w;
    (void)revents;
    drain_over = 1;
    for (int i = 0; i < opt->connections; i++) {
        struct conn *c = &conns[i];

        if (c->state == C_IDLE)
            continue;
        close_fd(c);
        c->status = 0;
        finish(c);
    }
    end_if_done();
}

void client_stop(void)
{
    if (stopping)
        return;
    stopping = 1;
    ev_timer_stop(loop, &sched);
    ev_timer_set(&drain,
                 opt->attempts * (opt->timeout_ms + BACKOFF_MAX_MS) / 1000.0,
                 0.);
    ev_timer_start(loop, &drain);
    ev_idle_start(loop, &spin); /* end_if_done() on the next pass */
}

void client_start(struct ev_loop *l, const struct opts *o, uint64_t t0_us,
                  void (*on_end)(void))
{
    size_t room = 0; /* the longest prefix */
    int fd;

    loop = l;
    opt = o;
    end_cb = on_end;
    t0 = t0_us;
    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, &rng, sizeof(rng)) != (ssize_t)sizeof(rng))
        die(EXIT_SYSCALL, "hitload: /dev/urandom: %s", strerror(errno));
    close(fd);
    rng |= 1;

    co_assert(o->entries >= 1 && o->entries <= OPTS_ENTRIES_MAX);
    for (int i = 0; i < o->entries; i++) {
        struct buf *p = &prefix[i];

        buf_puts(p, "GET ");
        buf_puts(p, o->entry[i].path);
        buf_puts(p, " HTTP/1.1\r\nHost: ");
        buf_puts(p, o->entry[i].authority);
        buf_puts(p, "\r\nIdempotency-Key: ");
        if (p->len > room)
            room = p->len;
    }

    conns = xmalloc(sizeof(*conns) * (size_t)o->connections);
    memset(conns, 0, sizeof(*conns) * (size_t)o->connections);
    for (int i = o->connections - 1; i >= 0; i--) {
        struct conn *c = &conns[i];

        c->fd = -1;
        c->state = C_IDLE;
        c->entry = i % o->entries; /* round robin, conns[0] first */
        c->out = xmalloc(room + KEY_ROOM);
        ev_init(&c->io, on_io);
        c->io.data = c;
        ev_init(&c->timer, on_timer);
        c->timer.data = c;
        c->next = idle_conns;
        idle_conns = c;
    }
    ev_prepare_init(&prepare, on_prepare);
    ev_prepare_start(loop, &prepare);
    ev_idle_init(&spin, on_spin);
    ev_timer_init(&sched, on_sched, 0., 0.);
    ev_timer_init(&drain, on_drain, 0., 0.);
}
