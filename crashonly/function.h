/* function.h: the Redis Function library that counts hits, and the keys
 * it keeps them in. */
#ifndef CRASHONLY_FUNCTION_H
#define CRASHONLY_FUNCTION_H

#include <stddef.h>

/* co_count_6 and co_hits_6, in the Lua that FUNCTION LOAD takes. Its
 * HSETEX needs Redis 8.0. */
extern const char function_library[];

#define FUNCTION_COUNT "co_count_6"
#define FUNCTION_HITS  "co_hits_6"

/* The ids are spread over this many hashes, each small enough to stay a
 * listpack (hash-max-listpack-entries, 512 on Redis 8): the fullest
 * passes that at about 27 M ids a DEDUPE_SECONDS and turns into a hash
 * table, which still works, at about twice the memory an id (109.1
 * bytes against 51.9, bench/ids-memory at 1 M ids with
 * hash-max-listpack-entries 0). More hashes, shorter ones: an id is
 * found sooner, and each hash costs its key (docs/bench.md: 65536
 * against 16384). */
#define ID_BUCKETS 65536

/* The bucket of an id: FNV-1a of its bytes, modulo ID_BUCKETS. */
unsigned function_bucket(const char *id, size_t len);

#define KEY_TOTAL   "crashonly:hits"
#define KEY_WORKERS "crashonly:workers"
#define KEY_REPEATS "crashonly:repeats" /* per worker: ids seen again */
#define KEY_IDS     "crashonly:ids:"    /* bucket: the ids seen */

#endif
