/* setup.h: the start-up conversation with Redis, and the counting
 * library's versioned load. */
#ifndef CRASHONLY_SETUP_H
#define CRASHONLY_SETUP_H

#include "config.h"

/* Queue on the link: AUTH and SELECT as cfg says; ROLE, which must say
 * master; with ACK_REPLICAS a WAITAOF, which must be there with the AOF
 * on; COMMAND INFO HSETEX (Redis >= 8.0); then the library's version,
 * loading crashonly/function.lua where Redis has none or an older one.
 * Calls done() once the library is there. Any failure ends the process:
 * EXIT_REDIS_LOST for a Redis that is not ready (loading, not a master,
 * no replica in sync), which a restart may find ready, else
 * EXIT_REDIS_REFUSED. */
void setup_start(const struct config *cfg, void (*done)(void));

#endif
