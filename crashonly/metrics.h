/* metrics.h: what the worker counts about itself, and GET /metrics, in
 * Prometheus's text format (0.0.4). Counting is a few additions to
 * arrays, with no I/O; rendering writes the text into a buffer. A crash
 * starts the counters from zero, which is what Prometheus's rate()
 * expects; the totals that matter stay Redis's. docs/metrics.md says what
 * each one tells. */
#ifndef CRASHONLY_METRICS_H
#define CRASHONLY_METRICS_H

#include <stddef.h>

#include "buf.h"

/* The route label of an answer: one of the table's paths, or OTHER (a
 * path that is not ours, or a request that is not acceptable HTTP). */
enum metrics_route {
    METRICS_OTHER,
    METRICS_HIT,     /* / */
    METRICS_HITS,    /* /hits */
    METRICS_HEALTHZ, /* /healthz */
    METRICS_READYZ,  /* /readyz */
    METRICS_METRICS, /* /metrics */
    METRICS_ROUTES   /* how many */
};

/* Why a connection was refused at accept: past MAX_CONNS, or out of
 * descriptors (the spare given up for it). */
enum metrics_refusal {
    METRICS_MAX_CONNS,
    METRICS_DESCRIPTORS,
    METRICS_REFUSALS /* how many */
};

/* The process started at unix_seconds (process_start_time_seconds):
 * call once, at start. */
void metrics_started(double unix_seconds);

/* An answer was written: one request of route, with status. */
void metrics_response(enum metrics_route route, int status);

/* A connection was refused at accept. */
void metrics_refused(enum metrics_refusal why);

/* One co_count call of size hits was answered, seconds after it was
 * sent: counted of them took new numbers, repeated were ids counted
 * before (they got their first number); both 0 when the call failed. */
void metrics_call(unsigned size, unsigned counted, unsigned repeated,
                  double seconds);

/* A call's WAITAOF was answered, seconds after its co_count reply: what
 * waiting for the disks of the master and its replicas added. */
void metrics_ack(double seconds);

/* Append every metric, as Prometheus's text format, to b;
 * connections_open is the one gauge counted elsewhere (conn.c). */
void metrics_render(struct buf *b, unsigned connections_open);

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
