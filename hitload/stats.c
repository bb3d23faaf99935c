/* stats.c: counters, the latency histogram and the 100 ms series. */
#include "stats.h"
#include "log.h"

#include <errno.h>
#include <string.h>

struct stats stats;

/* The series: one line per window, written once the window is over. */
static FILE *series; /* NULL: no series asked for */
static uint64_t t0;  /* the run's start, us */
static uint64_t win; /* the current window's number */
static long long win_answered, win_retried, win_failed;
static struct hist win_hist; /* requests finished in the window */

static int bucket(uint64_t v)
{
    uint64_t p = 100; /* 10^e */
    int e = 2;
    uint64_t d;

    if (v < 100)
        return (int)v;
    while (e < 1 + HIST_DECADES && v >= p * 10) {
        p *= 10;
        e++;
    }
    d = v / (p / 10);
    if (d > 99)
        return HIST_BUCKETS - 1;
    return 100 + (e - 2) * 90 + (int)(d - 10);
}

uint64_t hist_upper(int i)
{
    uint64_t p = 10;
    int k = i - 100;

    if (i < 100)
        return (uint64_t)i;
    for (int e = 2; e < 2 + k / 90; e++)
        p *= 10;
    return (uint64_t)(10 + k % 90 + 1) * p - 1;
}

void hist_add(struct hist *h, uint64_t v)
{
    h->n[bucket(v)]++;
    h->count++;
    h->sum += v;
    if (v > h->max)
        h->max = v;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
    uint64_t want, seen = 0;

    if (h->count == 0)
        return 0;
    want = (uint64_t)(q * (double)h->count + 0.999999);
    if (want < 1)
        want = 1;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += h->n[i];
        if (seen >= want) {
            uint64_t u = hist_upper(i);

            return u < h->max ? u : h->max;
        }
    }
    return h->max;
}

void stats_series_open(FILE *f, uint64_t t0_us)
{
    series = f;
    t0 = t0_us;
    win = 0;
    if (series != NULL)
        fputs("t_ms,answered,retried,failed,p99_us\n", series);
}

static void write_window(void)
{
    if (series != NULL &&
        fprintf(series, "%llu,%lld,%lld,%lld,%llu\n",
                (unsigned long long)win * SERIES_MS, win_answered, win_retried,
                win_failed,
                (unsigned long long)hist_quantile(&win_hist, 0.99)) < 0)
        die(EXIT_SYSCALL, "hitload: cannot write the series: %s",
            strerror(errno));
    win_answered = win_retried = win_failed = 0;
    if (win_hist.count != 0)
        memset(&win_hist, 0, sizeof(win_hist));
    win++;
}

void stats_series_tick(uint64_t now_us, int final)
{
    uint64_t w = (now_us - t0) / (SERIES_MS * 1000);

    while (win < w)
        write_window();
    if (final) {
        write_window();
        if (series != NULL && fflush(series) != 0)
            die(EXIT_SYSCALL, "hitload: cannot write the series: %s",
                strerror(errno));
    }
}

void stats_failed(enum fail_kind k, int entry, uint64_t now_us)
{
    co_assert(entry >= 0 && entry < OPTS_ENTRIES_MAX);
    stats.errors[k]++;
    stats.entry[entry].errors[k]++;
    stats_series_tick(now_us, 0);
    win_failed++;
}

void stats_retry(uint64_t now_us)
{
    stats.retries++;
    stats_series_tick(now_us, 0);
    win_retried++;
}

enum outcome stats_outcome(int status, long long hits)
{
    if (status == 200 && hits >= 1)
        return ACKNOWLEDGED;
    if (status == 0 || (status >= 500 && status <= 599))
        return INDETERMINATE;
    return REJECTED;
}

void stats_finished(int status, long long hits, int entry,
                    uint64_t latency_us, uint64_t now_us)
{
    enum outcome o = stats_outcome(status, hits);

    co_assert(entry >= 0 && entry < OPTS_ENTRIES_MAX);
    stats.entry[entry].ended[o]++;
    stats_series_tick(now_us, 0);
    switch (o) {
    case ACKNOWLEDGED:
        stats.acknowledged++;
        win_answered++;
        break;
    case INDETERMINATE:
        stats.indeterminate++;
        break;
    case REJECTED:
        stats.rejected++;
        break;
    case OUTCOMES:
        co_assert(!"stats_outcome returned OUTCOMES");
    }
    if (status == 0)
        return;
    hist_add(&stats.latency, latency_us);
    hist_add(&win_hist, latency_us);
}
