/* main.c: the crashonly worker. Wiring only: configuration, the listening
 * socket, Redis, the loop. There is no shutdown path: the process ends by
 * a signal's default action or by exiting at once on a fault, and its
 * supervisor starts it again. */
#include "config.h"
#include "conn.h"
#include "constants.h"
#include "log.h"
#include "metrics.h"
#include "reply.h"
#include "server.h"
#include "store.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static struct config cfg;
static struct ev_loop *loop;
static int listen_fd;
static struct timespec t0;

static double ms_since(const struct timespec *t)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) * 1e3 +
           (double)(now.tv_nsec - t->tv_nsec) / 1e6;
}

/* Once a loop pass, before it waits, in this order: the Date header; the
 * requests read behind answered ones; their hits and this pass's to
 * Redis, as one call; freeing the connections closed. */
static void before_wait(struct ev_loop *l, ev_prepare *w, int revents)
{
    (void)w;
    (void)revents;
    reply_set_date((time_t)ev_now(l));
    conn_resume();
    store_flush();
    conn_reap();
}

/* Redis is there and the function loaded: start taking clients. The line
 * says when by the system clock too (unix_ms), the clock a chaos run's
 * kills are stamped with: a log collector's own stamp can come late. */
static void start_serving(void)
{
    struct timespec wall;

    server_start(loop, listen_fd, &cfg);
    clock_gettime(CLOCK_REALTIME, &wall);
    log_line("level=info event=ready worker=%s startup_ms=%.2f unix_ms=%.3f",
             cfg.worker, ms_since(&t0),
             (double)wall.tv_sec * 1e3 + (double)wall.tv_nsec / 1e6);
}

int main(int argc, char **argv)
{
    static ev_prepare prepare;
    char err[CONFIG_ERR_MAX], url[400];
    struct rlimit rl;
    struct timespec born;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    clock_gettime(CLOCK_REALTIME, &born);
    metrics_started((double)born.tv_sec + (double)born.tv_nsec / 1e9);
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("crashonly %s\n", CRASHONLY_VERSION);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--constants") == 0) {
        constants_print();
        return 0;
    }
    if (argc > 1)
        die(EXIT_USAGE, "usage: crashonly [--version | --constants] (it "
                        "takes no other arguments; configure it with "
                        "environment variables)");

    /* Writes to a closed socket fail with EPIPE instead of a signal. */
    signal(SIGPIPE, SIG_IGN);

    if (config_load(&cfg, err, sizeof(err)) < 0)
        die(EXIT_CONFIG, "level=fatal event=config error=\"%s\"", err);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    config_url_safe(&cfg.redis, url, sizeof(url));
    log_line("level=info event=start version=%s worker=%s bind=%s port=%d "
             "redis=%s sentinels=%d master=%s ack_replicas=%d "
             "dedupe_seconds=%d redis_timeout_ms=%d idle_timeout_ms=%d "
             "header_timeout_ms=%d max_conns=%d",
             CRASHONLY_VERSION, cfg.worker, cfg.bind, cfg.port, url,
             cfg.nsentinels, cfg.nsentinels ? cfg.master : "-",
             cfg.ack_replicas, cfg.dedupe_seconds, cfg.redis_timeout_ms,
             cfg.idle_timeout_ms, cfg.header_timeout_ms, cfg.max_conns);

    listen_fd = server_listen(&cfg);
    loop = ev_loop_new(EVFLAG_AUTO);
    if (loop == NULL)
        die(EXIT_SYSCALL, "level=fatal event=ev_loop_new");
    reply_set_date(time(NULL));
    conn_setup(loop, &cfg);
    ev_prepare_init(&prepare, before_wait);
    ev_prepare_start(loop, &prepare);
    store_start(loop, &cfg, start_serving, conn_reply);
    ev_run(loop, 0);
    co_assert(!"the event loop ran out of watchers");
}
