/* output.h: hitload's files: the ledger, the summary, the live status, and
 * the one line on stdout. */
#ifndef HITLOAD_OUTPUT_H
#define HITLOAD_OUTPUT_H

#include "opts.h"

#include <stdint.h>

/* Open the files o names (truncating them); the series goes to stats. Any
 * failure is an exit 111. t0_us starts the series' clock. */
void output_open(const struct opts *o, uint64_t t0_us);

/* One ledger line: key attempts status hits worker latency_us sent_us
 * done_us. status 0: never answered; hits -1: no X-Hits; worker "" is
 * written "-". sent_us is when the request's first attempt began (before
 * its first byte went out), done_us when it ended (its final answer was
 * read, or it was given up), both on the monotonic clock
 * (CLOCK_MONOTONIC, us): chaos/check's real-time order. What a line says
 * of its hit is stats_outcome()'s rule (stats.h). Buffered; written out
 * in large blocks. */
void output_ledger(const char *run, long long seq, int attempts, int status,
                   long long hits, const char *worker, uint64_t latency_us,
                   uint64_t sent_us, uint64_t done_us);

/* Rewrite the status file: elapsed_s answered retries errors inflight rps,
 * rps over the time since the previous call. */
void output_status(double elapsed_s, int inflight);

/* The end: flush the ledger and series, write the summary, print the line
 * on stdout. duration_s runs from the start to the last request's end. */
void output_final(const struct opts *o, double duration_s);

#endif
