/* function.h: the Redis Function library that counts hits, and the keys
 * it keeps them in. */
#ifndef CRASHONLY_FUNCTION_H
#define CRASHONLY_FUNCTION_H

#include <stddef.h>

/* co_count_5 and co_hits_5, in the Lua that FUNCTION LOAD takes. */
extern const char function_library[];

#define FUNCTION_COUNT "co_count_5"
#define FUNCTION_HITS  "co_hits_5"

/* A window's ids are spread over this many hashes, each small enough to
 * stay a listpack (Redis's hash-max-listpack-entries: 128 before Redis 8,
 * 512 since): the fullest passes that at about 1.5 M ids a window on
 * Redis 7, 6.8 M on Redis 8, and turns into a hash table, which still
 * works, at the memory an id cost before. */
#define ID_BUCKETS 16384

/* The bucket of an id: FNV-1a of its bytes, modulo ID_BUCKETS. */
unsigned function_bucket(const char *id, size_t len);

#define KEY_TOTAL   "crashonly:hits"
#define KEY_WORKERS "crashonly:workers"
#define KEY_REPEATS "crashonly:repeats" /* per worker: ids seen again */
#define KEY_IDS     "crashonly:ids:"    /* window:bucket: the ids seen */

#endif
