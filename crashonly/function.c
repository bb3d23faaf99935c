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
    "#!lua name=crashonly_5\n"
    "-- co_count_5 KEYS total, workers, repeats\n"
    "--            ARGV worker, seconds, plain, bucket, id, bucket, id...\n"
    "-- Count one loop pass of a worker's hits in one atomic step: `plain`\n"
    "-- hits without an id, and one hit per id, where an id seen before gets\n"
    "-- its first number. The new hits take the numbers after the total, the\n"
    "-- plain ones first.\n"
    "-- Ids are kept a window of `seconds` of Redis's clock at a time, in\n"
    "-- small hashes: an id's bucket (function_bucket, given by the worker:\n"
    "-- the same for an id whichever worker has it) names its hash in each\n"
    "-- window, crashonly:ids:<window>:<bucket>. So few fields a hash, Redis\n"
    "-- keeps each one as a listpack: an id costs its bytes and its number's,\n"
    "-- not a hash table entry and two strings. An id is looked up in this\n"
    "-- window's hash and the last's, and set, if new, in this window's. A\n"
    "-- window's hash expires whole when the next window ends (set once, when\n"
    "-- its marker field ~ is new), so an id is remembered for at least\n"
    "-- `seconds` and at most twice that.\n"
    "-- A call always writes: repeats are counted too, so that a WAITAOF after\n"
    "-- a call of repeats alone waits for the first counts of those ids to be\n"
    "-- on the replicas (a call that wrote nothing would leave its\n"
    "-- connection's offset behind them).\n"
    "-- Returns {first, the number of each id in order}: first is the first\n"
    "-- plain hit's number (0 when the call counts nothing new).\n"
    "local function count(keys, args)\n"
    "  local plain, n = tonumber(args[3]), #args\n"
    "  local out, new, repeats = {0}, plain, 0\n"
    "  local w, cur, fresh\n"
    "  if n > 3 then\n"
    "    w = math.floor(redis.call('TIME')[1] / args[2])\n"
    "    cur = 'crashonly:ids:' .. w .. ':'\n"
    "    local last = 'crashonly:ids:' .. (w - 1) .. ':'\n"
    "    for i = 4, n, 2 do\n"
    "      local b, id = args[i], args[i + 1]\n"
    "      local seen = redis.call('HGET', cur .. b, id) or\n"
    "                   redis.call('HGET', last .. b, id)\n"
    "      if seen then\n"
    "        out[#out + 1], repeats = tonumber(seen), repeats + 1\n"
    "      else\n"
    "        -- New: -k, its place among the new hits, until first is known.\n"
    "        fresh = fresh or {}\n"
    "        local k = fresh[id]\n"
    "        if k then\n"
    "          repeats = repeats + 1 -- twice in this call: one hit\n"
    "        else\n"
    "          new = new + 1\n"
    "          k, fresh[id] = new, new\n"
    "        end\n"
    "        out[#out + 1] = -k\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  if new > 0 then\n"
    "    local first = redis.call('INCRBY', keys[1], new) - new + 1\n"
    "    redis.call('HINCRBY', keys[2], args[1], new)\n"
    "    out[1] = first\n"
    "    if fresh then\n"
    "      for i = 2, #out do\n"
    "        if out[i] < 0 then out[i] = first - out[i] - 1 end\n"
    "      end\n"
    "      for i = 4, n, 2 do\n"
    "        local id = args[i + 1]\n"
    "        local k = fresh[id]\n"
    "        if k then\n"
    "          fresh[id] = nil -- once, for an id twice in this call\n"
    "          local key = cur .. args[i]\n"
    "          if redis.call('HSET', key, '~', 1, id, first + k - 1) == 2 then\n"
    "            redis.call('EXPIREAT', key, (w + 2) * args[2])\n"
    "          end\n"
    "        end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  if repeats > 0 then\n"
    "    redis.call('HINCRBY', keys[3], args[1], repeats)\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "-- co_hits_5 KEYS total, workers: both, as one JSON snapshot. It writes\n"
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
    "redis.register_function('co_count_5', count)\n"
    "redis.register_function('co_hits_5', hits)\n";

/* FNV-1a (32 bits) of the id, modulo ID_BUCKETS: which of a window's
 * hashes holds it. Every worker must give an id the same bucket; it is
 * part of the library's version, as its Lua is. */
unsigned function_bucket(const char *id, size_t len)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)id[i]) * 16777619u;
    return h % ID_BUCKETS;
}
