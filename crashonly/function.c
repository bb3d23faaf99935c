/* function.c: the Redis Function library, the one place where hits are
 * counted: in Redis, atomically, a loop pass of a worker's hits a call. */
#include "function.h"

#include <stdint.h>

/* The Redis Function library. Its name carries a version, so workers of
 * two versions can share a Redis during a rolling restart: they share
 * the totals, but each version keeps its ids where it does (crashonly_4
 * kept a window's in one hash), so a retry that goes from a worker of one
 * to a worker of the other is counted again. FUNCTION LOAD persists it in
 * the AOF and RDB: it survives Redis restarts. */
const char function_library[] =
    "#!lua name=crashonly_6\n"
    "-- co_count_6 KEYS total, workers, repeats\n"
    "--            ARGV worker, seconds, plain, bucket, id, bucket, id...\n"
    "-- Count one loop pass of a worker's hits in one atomic step: `plain`\n"
    "-- hits without an id, and one hit per id, where an id seen in the last\n"
    "-- `seconds` gets its first number. The new hits take the numbers after\n"
    "-- the total, the plain ones first.\n"
    "-- An id is a field of a small hash, crashonly:ids:<bucket>, its number\n"
    "-- the value. Its bucket (function_bucket) is given by the worker: the\n"
    "-- same for an id whichever worker has it. So few fields a hash, Redis\n"
    "-- keeps each one as a listpack: an id costs its bytes, its number's and\n"
    "-- its expiry's, not a hash table entry and two strings. Each field\n"
    "-- expires on its own, `seconds` of Redis's clock after its id was first\n"
    "-- counted: one HSETEX FNX (Redis 8) sets a new id with its number and\n"
    "-- expiry, or finds it there. The script runs alone, so the numbers after\n"
    "-- the total are free until its INCRBY takes them.\n"
    "-- A call always writes: repeats are counted too, so that a WAITAOF after\n"
    "-- a call of repeats alone waits for the first counts of those ids to be\n"
    "-- on the replicas (a call that wrote nothing would leave its\n"
    "-- connection's offset behind them).\n"
    "-- Returns {first, the number of each id in order}: first is the first\n"
    "-- new hit's number (0 when the call counts nothing new).\n"
    "local function count(keys, args)\n"
    "  local plain, n = tonumber(args[3]), #args\n"
    "  local out, new, repeats = {0}, plain, 0\n"
    "  if n > 3 then\n"
    "    local total = tonumber(redis.call('GET', keys[1]) or '0')\n"
    "    for i = 4, n, 2 do\n"
    "      local key, id = 'crashonly:ids:' .. args[i], args[i + 1]\n"
    "      local number = total + new + 1\n"
    "      if redis.call('HSETEX', key, 'FNX', 'EX', args[2],\n"
    "                    'FIELDS', 1, id, number) == 1 then\n"
    "        new = new + 1\n"
    "      else -- seen before: in an earlier call, or earlier in this one\n"
    "        number = tonumber(redis.call('HGET', key, id))\n"
    "        repeats = repeats + 1\n"
    "      end\n"
    "      out[#out + 1] = number\n"
    "    end\n"
    "  end\n"
    "  if new > 0 then\n"
    "    out[1] = redis.call('INCRBY', keys[1], new) - new + 1\n"
    "    redis.call('HINCRBY', keys[2], args[1], new)\n"
    "  end\n"
    "  if repeats > 0 then\n"
    "    redis.call('HINCRBY', keys[3], args[1], repeats)\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "-- co_hits_6 KEYS total, workers: both, as one JSON snapshot. It writes\n"
    "-- nothing, but is not flagged no-writes, so that a master without a\n"
    "-- replica in sync (min-replicas-to-write) refuses it as it refuses a\n"
    "-- count: a master the Sentinels deposed while it was away answers\n"
    "-- NOREPLICAS, not totals that its successor has left behind.\n"
    "local function hits(keys)\n"
    "  local w, workers = redis.call('HGETALL', keys[2]), {}\n"
    "  for i = 1, #w, 2 do workers[w[i]] = tonumber(w[i + 1]) end\n"
    "  local total = tonumber(redis.call('GET', keys[1]) or '0')\n"
    "  return cjson.encode({total = total, workers = workers})\n"
    "end\n"
    "redis.register_function('co_count_6', count)\n"
    "redis.register_function('co_hits_6', hits)\n";

/* FNV-1a (32 bits) of the id, modulo ID_BUCKETS: which of the
 * hashes holds it. Every worker must give an id the same bucket; it is
 * part of the library's version, as its Lua is. */
unsigned function_bucket(const char *id, size_t len)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)id[i]) * 16777619u;
    return h % ID_BUCKETS;
}
