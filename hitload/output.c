/* output.c: the ledger (TSV), the summary (JSON), the status line and the
 * human line, written with plain write(2) and stdio, no per-line malloc. */
#include "output.h"
#include "stats.h"
#include "buf.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LEDGER_FLUSH 65536 /* write the ledger out in blocks this big */

static int ledger_fd = -1; /* -1: no ledger */
static struct buf ledger;  /* lines not yet written */
static const char *status_path;
static char status_tmp[4096];   /* status_path + ".tmp" */
static double status_prev_s;    /* elapsed at the previous status */
static long long status_prev_n; /* acknowledged then */
static double start_unix_ms;     /* the run's start on the wall clock */

static int open_out(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0)
        die(EXIT_SYSCALL, "hitload: cannot open %s: %s", path, strerror(errno));
    return fd;
}

static void write_all(int fd, const char *p, size_t n, const char *what)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            die(EXIT_SYSCALL, "hitload: cannot write %s: %s", what,
                strerror(errno));
        p += w;
        n -= (size_t)w;
    }
}

void output_open(const struct opts *o, uint64_t t0_us)
{
    FILE *series = NULL;
    struct timespec now;

    /* The series' time 0 on the wall clock, for lining it up with other
     * programs' records (chaos/killer's kills). */
    clock_gettime(CLOCK_REALTIME, &now);
    start_unix_ms = (double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6;

    if (o->ledger != NULL)
        ledger_fd = open_out(o->ledger);
    if (o->series != NULL) {
        series = fdopen(open_out(o->series), "w");
        if (series == NULL)
            die(EXIT_SYSCALL, "hitload: fdopen: %s", strerror(errno));
    }
    stats_series_open(series, t0_us);
    if (o->summary != NULL)
        close(open_out(o->summary)); /* fail now, not after the run */
    if (o->status != NULL) {
        if (strlen(o->status) + 5 > sizeof(status_tmp))
            die(EXIT_USAGE, "hitload: --status path too long");
        status_path = o->status;
        snprintf(status_tmp, sizeof(status_tmp), "%s.tmp", o->status);
        output_status(0, 0);
    }
}

void output_ledger(const char *run, long long seq, int attempts, int status,
                   long long hits, const char *worker, uint64_t latency_us,
                   uint64_t sent_us, uint64_t done_us)
{
    if (ledger_fd < 0)
        return;
    buf_puts(&ledger, run);
    buf_put(&ledger, "-", 1);
    buf_putll(&ledger, seq);
    buf_put(&ledger, "\t", 1);
    buf_putll(&ledger, attempts);
    buf_put(&ledger, "\t", 1);
    buf_putll(&ledger, status);
    buf_put(&ledger, "\t", 1);
    buf_putll(&ledger, hits);
    buf_put(&ledger, "\t", 1);
    buf_puts(&ledger, worker[0] ? worker : "-");
    buf_put(&ledger, "\t", 1);
    buf_putll(&ledger, (long long)latency_us);
    buf_put(&ledger, "\t", 1);
    buf_putll(&ledger, (long long)sent_us);
    buf_put(&ledger, "\t", 1);
    buf_putll(&ledger, (long long)done_us);
    buf_put(&ledger, "\n", 1);
    if (ledger.len >= LEDGER_FLUSH) {
        write_all(ledger_fd, ledger.p, ledger.len, "the ledger");
        ledger.len = 0;
    }
}

static long long errors_total(void)
{
    long long n = 0;

    for (int k = 0; k < FAIL_KINDS; k++)
        n += stats.errors[k];
    return n;
}

void output_status(double elapsed_s, int inflight)
{
    char line[256];
    double dt = elapsed_s - status_prev_s;
    double rps = dt > 0 ? (double)(stats.acknowledged - status_prev_n) / dt : 0;
    int n, fd;

    if (status_path == NULL)
        return;
    status_prev_s = elapsed_s;
    status_prev_n = stats.acknowledged;
    n = snprintf(line, sizeof(line), "%.1f %lld %lld %lld %d %.0f\n", elapsed_s,
                 stats.acknowledged, stats.retries, errors_total(), inflight,
                 rps);
    fd = open_out(status_tmp);
    write_all(fd, line, (size_t)n, status_tmp);
    close(fd);
    if (rename(status_tmp, status_path) < 0)
        die(EXIT_SYSCALL, "hitload: cannot rename %s: %s", status_tmp,
            strerror(errno));
}

/* s as a JSON string: quotes, backslashes and control bytes escaped
 * (a URL's path may hold the first two). */
static void json_str(FILE *f, const char *s)
{
    putc('"', f);
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(f, "\\u%04x", ch);
        else
            putc(ch, f);
    }
    putc('"', f);
}

/* The entry points, in order, each with the requests that ended there
 * (their last attempt went to it) and the attempts that failed there. */
static void write_entries(FILE *f, const struct opts *o)
{
    fputs(" \"entries\":[", f);
    for (int i = 0; i < o->entries; i++) {
        const struct entry_stats *es = &stats.entry[i];

        fputs(i ? ",\n  {\"url\":" : "\n  {\"url\":", f);
        json_str(f, o->entry[i].url);
        fputs(",\"address\":", f);
        json_str(f, o->entry[i].addr_text);
        fprintf(f,
                ",\"acknowledged\":%lld,\"indeterminate\":%lld,"
                "\"rejected\":%lld,\n   \"errors\":{\"connect\":%lld,"
                "\"reset\":%lld,\"timeout\":%lld,\"http_5xx\":%lld}}",
                es->ended[ACKNOWLEDGED], es->ended[INDETERMINATE],
                es->ended[REJECTED], es->errors[FAIL_CONNECT],
                es->errors[FAIL_RESET], es->errors[FAIL_TIMEOUT],
                es->errors[FAIL_5XX]);
    }
    fputs("],\n", f);
}

static void write_summary(const struct opts *o, double duration_s)
{
    const struct hist *h = &stats.latency;
    FILE *f = fopen(o->summary, "w");

    if (f == NULL)
        die(EXIT_SYSCALL, "hitload: cannot open %s: %s", o->summary,
            strerror(errno));
    fprintf(f,
            "{\"run\":\"%s\",\"attempted\":%lld,\"acknowledged\":%lld,"
            "\"indeterminate\":%lld,\"rejected\":%lld,\"retries\":%lld,\n"
            " \"errors\":{\"connect\":%lld,\"reset\":%lld,\"timeout\":%lld,"
            "\"http_5xx\":%lld},\n"
            " \"duration_s\":%.3f,\"start_unix_ms\":%.1f,\"mode\":\"%s\","
            "\"connections\":%d,",
            o->run, stats.attempted, stats.acknowledged, stats.indeterminate,
            stats.rejected, stats.retries, stats.errors[FAIL_CONNECT],
            stats.errors[FAIL_RESET], stats.errors[FAIL_TIMEOUT],
            stats.errors[FAIL_5XX], duration_s, start_unix_ms,
            o->rate > 0 ? "open" : "closed",
            o->connections);
    if (o->rate > 0)
        fprintf(f, "\"rate\":%.15g,\n", o->rate);
    else
        fputs("\"rate\":null,\n", f);
    write_entries(f, o);
    fprintf(f,
            " \"latency_us\":{\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,"
            "\"p999\":%llu,\"max\":%llu,\"mean\":%.1f},\n"
            " \"histogram\":[",
            (unsigned long long)hist_quantile(h, 0.5),
            (unsigned long long)hist_quantile(h, 0.9),
            (unsigned long long)hist_quantile(h, 0.99),
            (unsigned long long)hist_quantile(h, 0.999),
            (unsigned long long)h->max,
            h->count ? (double)h->sum / (double)h->count : 0.0);
    for (int i = 0, first = 1; i < HIST_BUCKETS; i++) {
        if (h->n[i] == 0)
            continue;
        fprintf(f, "%s[%llu,%llu]", first ? "" : ",",
                (unsigned long long)hist_upper(i), (unsigned long long)h->n[i]);
        first = 0;
    }
    fputs("]}\n", f);
    if (fclose(f) != 0)
        die(EXIT_SYSCALL, "hitload: cannot write %s: %s", o->summary,
            strerror(errno));
}

void output_final(const struct opts *o, double duration_s)
{
    const struct hist *h = &stats.latency;

    if (ledger_fd >= 0) {
        write_all(ledger_fd, ledger.p, ledger.len, "the ledger");
        ledger.len = 0;
    }
    if (o->summary != NULL)
        write_summary(o, duration_s);
    printf("hitload: run %s, %s loop, %d conns, %.2f s: %lld attempted, "
           "%lld acknowledged, %lld indeterminate, %lld rejected, "
           "%lld retries (connect %lld, reset %lld, timeout %lld, 5xx "
           "%lld); %.0f req/s; latency p50 %.2f p99 %.2f max %.2f ms\n",
           o->run, o->rate > 0 ? "open" : "closed", o->connections, duration_s,
           stats.attempted, stats.acknowledged, stats.indeterminate,
           stats.rejected, stats.retries, stats.errors[FAIL_CONNECT],
           stats.errors[FAIL_RESET], stats.errors[FAIL_TIMEOUT],
           stats.errors[FAIL_5XX],
           duration_s > 0 ? (double)stats.acknowledged / duration_s : 0.0,
           (double)hist_quantile(h, 0.5) / 1e3,
           (double)hist_quantile(h, 0.99) / 1e3, (double)h->max / 1e3);
    if (o->entries > 1) {
        fputs("hitload: acknowledged by entry point:", stdout);
        for (int i = 0; i < o->entries; i++)
            printf("%s %s %lld", i ? "," : "", o->entry[i].addr_text,
                   stats.entry[i].ended[ACKNOWLEDGED]);
        putchar('\n');
    }
    fflush(stdout);
}
