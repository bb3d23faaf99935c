/* stats.h: what a run counted: totals, a log-linear latency histogram with
 * two significant digits, and the 100 ms series written as the run goes. */
#ifndef HITLOAD_STATS_H
#define HITLOAD_STATS_H

#include "opts.h"

#include <stdint.h>
#include <stdio.h>

/* Values 0-99 have a bucket each; above, each decade [10^e, 10^(e+1)),
 * e = 2..9, has 90 buckets of its two leading digits. Larger values (over
 * 2.7 hours in microseconds) land in the last bucket. */
#define HIST_DECADES 8
#define HIST_BUCKETS (100 + 90 * HIST_DECADES)
#define SERIES_MS    100 /* the series' window */

struct hist {
    uint64_t n[HIST_BUCKETS]; /* samples per bucket */
    uint64_t count;           /* samples in all */
    uint64_t sum;             /* their sum, for the mean */
    uint64_t max;             /* the largest, exact */
};

/* How attempts fail; the order of the summary's "errors" object. */
enum fail_kind {
    FAIL_CONNECT, /* connect(2) refused or failed */
    FAIL_RESET,   /* reset, EOF or garbage before a whole response */
    FAIL_TIMEOUT, /* no whole response within --timeout-ms */
    FAIL_5XX,     /* an answer 500-599 */
    FAIL_KINDS
};

/* What a request's final answer says of its hit. This is the one rule,
 * and chaos/check applies it to the ledger's status and hits columns:
 *   acknowledged   200 with an X-Hits of 1 or more: counted, that number
 *   indeterminate  no answer (status 0) or a 5xx: counted or not
 *   rejected       any other answer (a 4xx, a 200 with no X-Hits): the
 *                  server said no, and counted nothing */
enum outcome { ACKNOWLEDGED, INDETERMINATE, REJECTED, OUTCOMES };
enum outcome stats_outcome(int status, long long hits);

/* One entry point's share: the requests whose last attempt went to it,
 * and the attempts that failed there. */
struct entry_stats {
    long long ended[OUTCOMES];    /* requests, by final outcome */
    long long errors[FAIL_KINDS]; /* failed attempts, by kind */
};

struct stats {
    long long attempted;          /* requests started */
    long long acknowledged;       /* final outcomes, by stats_outcome() */
    long long indeterminate;
    long long rejected;
    long long retries;            /* attempts after a request's first */
    long long errors[FAIL_KINDS]; /* failed attempts, by kind */
    struct hist latency;          /* answered requests, us from intended send */
    struct entry_stats entry[OPTS_ENTRIES_MAX]; /* by entry point */
};

extern struct stats stats;

void hist_add(struct hist *h, uint64_t v);
/* The highest value of the bucket that holds quantile q (0..1), capped by
 * the maximum; 0 when empty. */
uint64_t hist_quantile(const struct hist *h, double q);
/* The highest value bucket i holds. */
uint64_t hist_upper(int i);

/* Start the series in f (NULL: no series) at time t0_us. */
void stats_series_open(FILE *f, uint64_t t0_us);
/* Events, at time now_us (monotonic, as t0_us); entry is the index of
 * the entry point the attempt went to: */
void stats_failed(enum fail_kind k, int entry, uint64_t now_us);
void stats_retry(uint64_t now_us);
/* A request ended, its last attempt on entry: status 0 for never
 * answered, hits -1 for none. The latency counts for every answered
 * request (status not 0). */
void stats_finished(int status, long long hits, int entry,
                    uint64_t latency_us, uint64_t now_us);
/* Write the series' windows that ended before now_us; with final set, the
 * current one too, then flush. */
void stats_series_tick(uint64_t now_us, int final);

#endif
