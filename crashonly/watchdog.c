/* watchdog.c: the deadline of Redis's replies, on one repeating timer. */
#include "watchdog.h"
#include "constants.h"
#include "log.h"

static struct ev_loop *loop;
static ev_timer timer;
static int timeout_ms;
static void (*ping)(void);
static unsigned unanswered; /* commands sent and not yet answered */
static ev_tstamp progress;  /* last reply, or when unanswered left 0 */
static ev_tstamp last_tick; /* when the watchdog last ran */
static int connected;       /* the connection is up */

void watchdog_sent(void)
{
    if (unanswered++ == 0)
        progress = ev_now(loop);
}

void watchdog_got(void)
{
    co_assert(unanswered > 0);
    unanswered--;
    progress = ev_now(loop);
}

void watchdog_connected(void)
{
    connected = 1;
}

/* Every tick: end the process if Redis is late; ping it when idle.
 *
 * A tick that comes more than two periods after the last one means that
 * this process did not run meanwhile (SIGSTOP, a frozen container, a
 * starved or suspended machine): how long Redis seems to have taken says
 * nothing of Redis then, and its reply may be waiting in our socket, read
 * in this same loop pass. So Redis's deadline starts again from now: a
 * Redis that is really silent still ends the process, REDIS_TIMEOUT_MS
 * after it ran again (tests/worker.t). */
static void on_tick(struct ev_loop *l, ev_timer *w, int revents)
{
    ev_tstamp now = ev_now(l);
    ev_tstamp gap = now - last_tick;
    ev_tstamp late;

    (void)revents;
    last_tick = now;
    if (gap > 2 * w->repeat) {
        log_line("level=warn event=stalled ms=%.0f pending=%u",
                 (gap - w->repeat) * 1000, unanswered);
        progress = now;
    }
    late = now - progress;
    if (unanswered > 0 && late * 1000 > timeout_ms)
        die(connected ? EXIT_REDIS_SLOW : EXIT_REDIS_LOST,
            "level=fatal event=%s timeout_ms=%d pending=%u",
            connected ? "redis_timeout" : "redis_connect_timeout", timeout_ms,
            unanswered);
    if (unanswered == 0 && late >= 1.0)
        ping();
}

void watchdog_start(struct ev_loop *l, int ms, void (*idle_ping)(void))
{
    double tick = ms / 4000.0;

    loop = l;
    timeout_ms = ms;
    ping = idle_ping;
    last_tick = ev_now(loop);
    ev_timer_init(&timer, on_tick, tick, tick);
    ev_timer_start(loop, &timer);
}
