/* metrics.c: the worker's counters and histograms, and their text for
 * GET /metrics. No I/O: counting adds to arrays (it runs for every
 * answer), rendering appends to a buffer (it runs for every scrape). */
#include "metrics.h"
#include "function.h"
#include "log.h"
#include "version.h"

#include <stdarg.h>
#include <stdio.h>

/* The statuses the worker answers with (reply.c), 200 first: the scan
 * for a hit's ends at once. Another is counted as OTHER_STATUS. */
static const int statuses[] = {200, 503, 304, 400, 404, 405, 412,
                               413, 414, 421, 431, 501, 505};
#define NSTATUS      (sizeof(statuses) / sizeof(statuses[0]))
#define OTHER_STATUS NSTATUS /* counted, and rendered as code="other" */

static const char *const route_label[METRICS_ROUTES] = {
    "other", "/", "/hits", "/healthz", "/readyz", "/metrics",
};
static const char *const refusal_label[METRICS_REFUSALS] = {
    "max_conns", "descriptors",
};

/* A histogram: bucket i counts observations <= bound[i] (and not under
 * bound[i-1]: the cumulative counts are summed when rendered). le[i] is
 * bound[i] as Prometheus reads it, written once here. */
struct histogram {
    const double *bound;
    const char *const *le;
    unsigned nbound;
    unsigned long long *bucket; /* nbound + 1: the last is +Inf */
    unsigned long long count;
    double sum;
};

#define NSIZE 11
static const double size_bound[NSIZE] = {1,  2,   4,   8,   16,  32,
                                         64, 128, 256, 512, 1000};
static const char *const size_le[NSIZE] = {"1",  "2",   "4",   "8",
                                           "16", "32",  "64",  "128",
                                           "256", "512", "1000"};
#define NTIME 14
static const double time_bound[NTIME] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
static const char *const time_le[NTIME] = {
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
    "0.025",  "0.05",    "0.1",    "0.25",  "0.5",    "1",     "2.5"};

static unsigned long long responses[METRICS_ROUTES][NSTATUS + 1];
static unsigned long long refused[METRICS_REFUSALS];
static unsigned long long hits_counted, hits_repeated;
static double start_time; /* Unix s */
static unsigned long long size_buckets[NSIZE + 1], call_buckets[NTIME + 1],
    ack_buckets[NTIME + 1];
static struct histogram call_size = {size_bound, size_le, NSIZE,
                                     size_buckets, 0, 0};
static struct histogram call_time = {time_bound, time_le, NTIME,
                                     call_buckets, 0, 0};
static struct histogram ack_time = {time_bound, time_le, NTIME,
                                    ack_buckets, 0, 0};

void metrics_started(double unix_seconds)
{
    start_time = unix_seconds;
}

void metrics_response(enum metrics_route route, int status)
{
    unsigned i = 0;

    co_assert((unsigned)route < METRICS_ROUTES);
    while (i < NSTATUS && statuses[i] != status)
        i++;
    responses[route][i]++;
}

void metrics_refused(enum metrics_refusal why)
{
    co_assert((unsigned)why < METRICS_REFUSALS);
    refused[why]++;
}

static void observe(struct histogram *h, double v)
{
    unsigned i = 0;

    while (i < h->nbound && v > h->bound[i])
        i++;
    h->bucket[i]++;
    h->count++;
    h->sum += v;
}

void metrics_call(unsigned size, unsigned counted, unsigned repeated,
                  double seconds)
{
    hits_counted += counted;
    hits_repeated += repeated;
    observe(&call_size, (double)size);
    observe(&call_time, seconds);
}

void metrics_ack(double seconds)
{
    observe(&ack_time, seconds);
}

/* printf into b: only for rendering, never on the hit path. */
static void put(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(struct buf *b, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    co_assert(n >= 0 && (size_t)n < sizeof(line));
    buf_put(b, line, (size_t)n);
}

/* The HELP and TYPE lines of a metric. */
static void header(struct buf *b, const char *name, const char *type,
                   const char *help)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void histogram(struct buf *b, const char *name, const char *help,
                      const struct histogram *h)
{
    unsigned long long cumulative = 0;

    header(b, name, "histogram", help);
    for (unsigned i = 0; i < h->nbound; i++) {
        cumulative += h->bucket[i];
        put(b, "%s_bucket{le=\"%s\"} %llu\n", name, h->le[i], cumulative);
    }
    put(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, h->count);
    put(b, "%s_sum %.9g\n%s_count %llu\n", name, h->sum, name, h->count);
}

void metrics_render(struct buf *b, unsigned connections_open)
{
    header(b, "crashonly_http_requests_total", "counter",
           "Requests answered, by route and status code.");
    for (unsigned r = 0; r < METRICS_ROUTES; r++)
        for (unsigned s = 0; s <= NSTATUS; s++) {
            char code[8] = "other";

            if (responses[r][s] == 0)
                continue;
            if (s < NSTATUS)
                snprintf(code, sizeof(code), "%d", statuses[s]);
            put(b, "crashonly_http_requests_total{route=\"%s\",code=\"%s\"} "
                   "%llu\n",
                route_label[r], code, responses[r][s]);
        }
    header(b, "crashonly_hits_counted_total", "counter",
           "Hits that took a new number in Redis.");
    put(b, "crashonly_hits_counted_total %llu\n", hits_counted);
    header(b, "crashonly_hits_repeated_total", "counter",
           "Hits whose id was counted before: they got its first number.");
    put(b, "crashonly_hits_repeated_total %llu\n", hits_repeated);
    histogram(b, "crashonly_redis_call_hits",
              "Hits in one co_count call (the group commit's batch).",
              &call_size);
    histogram(b, "crashonly_redis_call_duration_seconds",
              "From sending a co_count call to its reply.", &call_time);
    histogram(b, "crashonly_redis_ack_duration_seconds",
              "From a call's reply to its WAITAOF's: waiting for the "
              "disks (ACK_REPLICAS only).",
              &ack_time);
    header(b, "crashonly_connections_open", "gauge",
           "Client connections open now.");
    put(b, "crashonly_connections_open %u\n", connections_open);
    header(b, "crashonly_connections_refused_total", "counter",
           "Connections answered 503 and closed at accept, by reason.");
    for (unsigned i = 0; i < METRICS_REFUSALS; i++)
        put(b, "crashonly_connections_refused_total{reason=\"%s\"} %llu\n",
            refusal_label[i], refused[i]);
    header(b, "crashonly_build_info", "gauge",
           "The worker's version, its counting library's and the ids' "
           "schema; always 1.");
    put(b,
        "crashonly_build_info{version=\"%s\",library=\"%lld\","
        "schema=\"%lld\"} 1\n",
        CRASHONLY_VERSION, function_version, function_schema);
    header(b, "process_start_time_seconds", "gauge",
           "Start time of the process since the Unix epoch in seconds.");
    put(b, "process_start_time_seconds %.3f\n", start_time);
}
