/* main.c: netdelay, a netem for a kernel built without one. It takes the
 * packets netfilter queues to it (an iptables NFQUEUE rule, which picks
 * them), drops each with probability LOSS, holds the rest DELAY ms, give
 * or take a uniform JITTER, and lets them go, in the order they came
 * (netem's jitter reorders them; this does not). A dropped packet is lost
 * as on a wire: its sender took it for sent.
 *
 * usage: netdelay -q QUEUE -d DELAY_MS [-j JITTER_MS] [-l LOSS_PCT] -t MS
 * Runs MS ms, or until SIGTERM or SIGINT, then lets every packet it holds
 * go at once and exits 0, printing "delayed=N dropped=M" on stdout; once
 * it is gone, a rule with --queue-bypass lets packets pass. Exit codes: 0
 * done, 100 usage, 111 a system call failed (one line on stderr). */
#include "log.h"
#include "nfq.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HELD_MAX     16384 /* packets held at once; the kernel's queue too */
#define OUT_MAX      65536 /* bytes of verdicts sent in one send */

/* A packet held: its queue id, and when it goes (ns, monotonic). */
struct held {
    uint32_t id;
    int64_t at;
};

static struct held held[HELD_MAX]; /* a ring, oldest at head */
static size_t head, nheld;
static char out[OUT_MAX]; /* verdicts not sent yet */
static size_t outlen;
static int fd;         /* the netlink socket */
static uint16_t queue; /* the queue number, -q */
static volatile sig_atomic_t stop;
static uint64_t rng; /* xorshift64* state */
static unsigned long long delayed, dropped;
static int passing; /* the end: let every packet go as it comes */

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A random number below n (n > 0), from xorshift64*. */
static uint64_t below(uint64_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (rng * 2685821657736338717ULL >> 11) % n;
}

/* A whole number in [min, max] from s, or -1. */
static long number(const char *s, long min, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    return v;
}

static void usage(const char *why)
{
    die(EXIT_USAGE,
        "netdelay: %s\nusage: netdelay -q QUEUE -d DELAY_MS [-j JITTER_MS] "
        "[-l LOSS_PCT] -t MS",
        why);
}

/* Send the verdicts gathered so far. The kernel handles them as it reads
 * them: a send of a whole buffer either goes or fails. */
static void flush(void)
{
    struct sockaddr_nl k = {.nl_family = AF_NETLINK};

    if (outlen == 0)
        return;
    while (sendto(fd, out, outlen, 0, (struct sockaddr *)&k, sizeof(k)) < 0)
        if (errno != EINTR)
            die(EXIT_SYSCALL, "netdelay: send verdicts: %s", strerror(errno));
    outlen = 0;
}

static void verdict(uint32_t id, int accept)
{
    if (outlen > OUT_MAX - NFQ_MSG_MAX)
        flush();
    nfq_verdict(out, &outlen, queue, id, accept);
}

/* Let go every held packet whose time has come (all with ALL). */
static void release(int64_t now, int all)
{
    while (nheld && (all || held[head].at <= now)) {
        verdict(held[head].id, 1);
        head = (head + 1) % HELD_MAX;
        nheld--;
    }
}

/* A packet came: drop it, or hold it until now + delay +- jitter, but
 * never before the one ahead of it. A full ring lets it go at once. */
static void take(uint32_t id, int64_t now, long delay_ms, long jitter_ms,
                 long loss_pct)
{
    int64_t at;

    if (passing) {
        verdict(id, 1);
        return;
    }
    if (loss_pct && (long)below(100) < loss_pct) {
        dropped++;
        verdict(id, 0);
        return;
    }
    if (nheld == HELD_MAX) {
        verdict(id, 1);
        return;
    }
    at = now +
         (delay_ms - jitter_ms + (long)below(2 * jitter_ms + 1)) * 1000000LL;
    if (nheld && at < held[(head + nheld - 1) % HELD_MAX].at)
        at = held[(head + nheld - 1) % HELD_MAX].at;
    held[(head + nheld) % HELD_MAX] = (struct held){.id = id, .at = at};
    nheld++;
    delayed++;
}

/* Read what the kernel sent: packets to take, and errors (a verdict on a
 * packet the kernel no longer holds, when it let it go itself). */
static void drain(int64_t now, long delay_ms, long jitter_ms, long loss_pct)
{
    static char b[1 << 16];
    ssize_t n;

    while ((n = recv(fd, b, sizeof(b), MSG_DONTWAIT)) > 0) {
        size_t off = 0;
        uint32_t id;
        int err;

        while (off < (size_t)n) {
            enum nfq_kind k = nfq_next(b, n, &off, &id, &err);

            if (k == NFQ_BAD)
                break;
            if (k == NFQ_PACKET)
                take(id, now, delay_ms, jitter_ms, loss_pct);
        }
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR && errno != ENOBUFS)
        die(EXIT_SYSCALL, "netdelay: recv: %s", strerror(errno));
}

/* Open the netlink socket and bind the queue; the kernel must ACK it. */
static void open_queue(void)
{
    struct sockaddr_nl me = {.nl_family = AF_NETLINK};
    char b[4096];
    int one = 1, size = 8 << 20;
    size_t len = nfq_bind(b, queue, HELD_MAX, 1), off = 0;
    struct sockaddr_nl k = {.nl_family = AF_NETLINK};
    ssize_t n;
    uint32_t id;
    int err = 0;

    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0)
        die(EXIT_SYSCALL, "netdelay: netlink socket: %s", strerror(errno));
    /* A big receive buffer, past rmem_max as root; where a packet still
     * finds it full, the kernel lets the packet go (fail open). */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
    if (sendto(fd, b, len, 0, (struct sockaddr *)&k, sizeof(k)) < 0)
        die(EXIT_SYSCALL, "netdelay: bind queue %u: %s", queue,
            strerror(errno));
    n = recv(fd, b, sizeof(b), 0);
    if (n < 0)
        die(EXIT_SYSCALL, "netdelay: bind queue %u: %s", queue,
            strerror(errno));
    if (nfq_next(b, n, &off, &id, &err) != NFQ_ACK || err)
        die(EXIT_SYSCALL, "netdelay: bind queue %u: %s", queue,
            err ? strerror(-err) : "no answer");
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    long q = -1, delay_ms = -1, jitter_ms = 0, loss_pct = 0, run_ms = -1;
    struct sigaction sa = {.sa_handler = on_signal};
    int64_t end;
    int c;

    while ((c = getopt(argc, argv, "q:d:j:l:t:")) != -1) {
        switch (c) {
        case 'q':
            q = number(optarg, 0, 65535);
            break;
        case 'd':
            delay_ms = number(optarg, 0, 60000);
            break;
        case 'j':
            jitter_ms = number(optarg, 0, 60000);
            break;
        case 'l':
            loss_pct = number(optarg, 0, 100);
            break;
        case 't':
            run_ms = number(optarg, 1, 3600000);
            break;
        default:
            usage("unknown option");
        }
        if ((c == 'j' && jitter_ms < 0) || (c == 'l' && loss_pct < 0))
            usage("-j and -l take whole numbers: 0-60000 ms, 0-100 %");
    }
    if (optind != argc || q < 0 || delay_ms < 0 || run_ms < 0)
        usage("-q 0-65535, -d 0-60000 and -t 1-3600000 are needed");
    if (jitter_ms > delay_ms)
        usage("-j must be at most -d");
    queue = (uint16_t)q;
    if (getrandom(&rng, sizeof(rng), 0) != sizeof(rng) || rng == 0)
        rng = (uint64_t)now_ns() | 1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    open_queue();

    end = now_ns() + run_ms * 1000000LL;
    while (!stop) {
        int64_t now = now_ns(), next = end;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        struct timespec ts;

        if (now >= end)
            break;
        if (nheld && held[head].at < next)
            next = held[head].at;
        ts.tv_sec = next > now ? (next - now) / 1000000000 : 0;
        ts.tv_nsec = next > now ? (next - now) % 1000000000 : 0;
        if (ppoll(&p, 1, &ts, NULL) < 0 && errno != EINTR)
            die(EXIT_SYSCALL, "netdelay: poll: %s", strerror(errno));
        now = now_ns();
        if (p.revents & POLLIN)
            drain(now, delay_ms, jitter_ms, loss_pct);
        release(now, 0);
        flush();
    }
    /* What the kernel queued meanwhile goes too: closing the socket would
     * drop it. */
    release(0, 1);
    passing = 1;
    drain(0, 0, 0, 0);
    flush();
    printf("delayed=%llu dropped=%llu\n", delayed, dropped);
    return 0;
}
