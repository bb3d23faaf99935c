/* function.h: the Redis Function library that counts hits
 * (crashonly/function.lua, built in by mk/embed), and the keys it keeps
 * them in. */
#ifndef CRASHONLY_FUNCTION_H
#define CRASHONLY_FUNCTION_H

#include <stddef.h>

/* The library's Lua, as FUNCTION LOAD takes it, its VERSION and its
 * ids' SCHEMA. A worker loads it only where Redis has none, or an older
 * one. */
extern const char function_library[];
extern const long long function_version;
extern const long long function_schema;

#define FUNCTION_COUNT   "co_count"
#define FUNCTION_HITS    "co_hits"
#define FUNCTION_VERSION "co_version" /* {version, schema} */
/* The library before there was one name for every version: replaced
 * along with the first load, in one MULTI, since this one takes its
 * workers' calls. */
#define FUNCTION_LIBRARY_6 "crashonly_6"

/* The ids are spread over this many hashes, each small enough to stay a
 * listpack (hash-max-listpack-entries, 512 on Redis 8); a fuller one
 * turns into a hash table, which still works, at about twice the memory
 * an id (docs/bench.md). Part of the ids' schema, as their keys are. */
#define ID_BUCKETS 65536

/* The bucket of an id: FNV-1a (32 bits) of its bytes, modulo ID_BUCKETS:
 * h = FNV_BASIS, then for each byte h = ((h ^ byte) * FNV_PRIME) mod 2^32.
 * Every worker must give an id the same bucket. */
#define FNV_BASIS 2166136261u
#define FNV_PRIME 16777619u
unsigned function_bucket(const char *id, size_t len);

#define KEY_TOTAL   "crashonly:hits"
#define KEY_WORKERS "crashonly:workers"
#define KEY_REPEATS "crashonly:repeats" /* per worker: ids seen again */

#endif
