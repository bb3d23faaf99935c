/* main.c: the verifying load client of make chaos. Wiring only:
 * options, the output files, the loop, the clock of the run.
 * Exit codes: 0 the run is done (judging it is the checker's job), 100
 * usage, 111 a system call failed. */
#include "client.h"
#include "opts.h"
#include "output.h"
#include "stats.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static struct opts opt;
static struct ev_loop *loop;
static uint64_t t0; /* the run's start, us on the monotonic clock */

static double elapsed_s(void)
{
    return (double)(client_now_us() - t0) / 1e6;
}

/* The default run id: 16 hex digits from /dev/urandom. */
static void random_run(char *out)
{
    unsigned char b[8];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

    if (fd < 0 || read(fd, b, sizeof(b)) != (ssize_t)sizeof(b))
        die(EXIT_SYSCALL, "hitload: /dev/urandom: %s", strerror(errno));
    close(fd);
    for (size_t i = 0; i < sizeof(b); i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

/* Every request is over: write it all down and exit 0. */
static void on_end(void)
{
    double d = elapsed_s();

    stats_series_tick(client_now_us(), 1);
    output_status(d, 0);
    output_final(&opt, d);
    _exit(0);
}

static void on_duration(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)l;
    (void)w;
    (void)revents;
    client_stop();
}

static void on_second(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)l;
    (void)w;
    (void)revents;
    output_status(elapsed_s(), client_inflight());
}

static void on_window(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)l;
    (void)w;
    (void)revents;
    stats_series_tick(client_now_us(), 0);
}

int main(int argc, char **argv)
{
    static ev_timer duration, second, window;
    char err[OPTS_ERR_MAX];
    struct rlimit rl;
    int rc = opts_parse(&opt, argc, argv, err, sizeof(err));

    if (rc > 0)
        return 0;
    if (rc < 0 || opts_resolve(&opt, err, sizeof(err)) < 0)
        die(EXIT_USAGE, "hitload: %s", err);
    if (opt.run[0] == '\0')
        random_run(opt.run);
    signal(SIGPIPE, SIG_IGN);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    loop = ev_loop_new(EVFLAG_AUTO);
    if (loop == NULL)
        die(EXIT_SYSCALL, "hitload: ev_loop_new failed");

    t0 = client_now_us();
    output_open(&opt, t0);
    client_start(loop, &opt, t0, on_end);
    ev_timer_init(&duration, on_duration, opt.duration_s, 0.);
    ev_timer_start(loop, &duration);
    ev_timer_init(&second, on_second, 1., 1.);
    ev_timer_start(loop, &second);
    ev_timer_init(&window, on_window, SERIES_MS / 1000.0, SERIES_MS / 1000.0);
    ev_timer_start(loop, &window);
    ev_run(loop, 0);
    co_assert(!"the event loop ran out of watchers");
}
