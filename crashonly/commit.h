/* commit.h: hits counted in groups: one co_count call for the hits of a
 * loop pass, and with ACK_REPLICAS one wait for the disks for all of
 * them (a group commit). */
#ifndef CRASHONLY_COMMIT_H
#define CRASHONLY_COMMIT_H

#include <stddef.h>

#include "config.h"
#include "store.h"

/* Format the arguments that every call shares; each hit's reply goes to
 * answer. */
void commit_start(const struct config *cfg, store_reply_fn *answer);

/* Add a hit to the next call (store_hit() says what it gets). */
void commit_hit(const char *id, size_t id_len, void *who);

/* Send the hits added so far as one call, unless one is still unanswered
 * (then they go once it is): call it when the loop is about to wait. */
void commit_flush(void);

/* True when the newest WAITAOF found fewer replicas than asked: not ready
 * until one finds them all. */
int commit_acks_short(void);

#endif
