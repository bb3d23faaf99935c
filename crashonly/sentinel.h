/* sentinel.h: finding the Redis master through Redis Sentinel. */
#ifndef CRASHONLY_SENTINEL_H
#define CRASHONLY_SENTINEL_H

#include "config.h"

/* Ask cfg's Sentinels, one at a time from one picked by the pid, for the
 * address of the master cfg->master names (SENTINEL
 * get-master-addr-by-name), and put the first answer in *out. Blocks for at
 * most a quarter of REDIS_TIMEOUT_MS a Sentinel, at start-up only: once
 * found, the store confirms the master's role itself. Ends the process with
 * EXIT_CONFIG when every Sentinel answers and none knows such a master,
 * and with EXIT_REDIS_LOST when none gives an address otherwise. */
void sentinel_find_master(const struct config *cfg, struct host_port *out);

#endif
