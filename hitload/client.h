/* client.h: hitload's connections and requests: the closed or open loop,
 * one request in flight per connection, retries with the same key, and
 * the drain at the end. */
#ifndef HITLOAD_CLIENT_H
#define HITLOAD_CLIENT_H

#include "opts.h"

#include <ev.h>
#include <stdint.h>

/* Microseconds on the monotonic clock. */
uint64_t client_now_us(void);

/* Start loading o's target at t0_us. o must outlive the run. on_end is
 * called once, when no request is in flight and none may start. */
void client_start(struct ev_loop *loop, const struct opts *o, uint64_t t0_us,
                  void (*on_end)(void));

/* The duration is over: start nothing new; let what is in flight finish,
 * retries too, for at most attempts x (timeout + the backoff's cap); then
 * record what is left as never answered. */
void client_stop(void);

/* Requests in flight, retries waiting included. */
int client_inflight(void);

#endif
