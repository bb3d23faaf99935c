#!lua name=crashonly_6
-- bench/crashonly_6.lua: the counting library before there was one name for
-- every version (crashonly/function.lua takes its calls, and reads its
-- ids as schema 1), kept as make bench's peer and as the release that
-- tests/library.t upgrades from.
-- co_count_6 KEYS total, workers, repeats
--            ARGV worker, seconds, plain, bucket, id, bucket, id...
-- Count one loop pass of a worker's hits in one atomic step: `plain`
-- hits without an id, and one hit per id, where an id seen in the last
-- `seconds` gets its first number. The new hits take the numbers after
-- the total, the plain ones first.
-- An id is a field of a small hash, crashonly:ids:<bucket>, its number
-- the value. Its bucket (function_bucket) is given by the worker: the
-- same for an id whichever worker has it. So few fields a hash, Redis
-- keeps each one as a listpack: an id costs its bytes, its number's and
-- its expiry's, not a hash table entry and two strings. Each field
-- expires on its own, `seconds` of Redis's clock after its id was first
-- counted: one HSETEX FNX (Redis 8) sets a new id with its number and
-- expiry, or finds it there. The script runs alone, so the numbers after
-- the total are free until its INCRBY takes them.
-- A call always writes: repeats are counted too, so that a WAITAOF after
-- a call of repeats alone waits for the first counts of those ids to be
-- on the replicas (a call that wrote nothing would leave its
-- connection's offset behind them).
-- Returns {first, the number of each id in order}: first is the first
-- new hit's number (0 when the call counts nothing new).
local function count(keys, args)
  local plain, n = tonumber(args[3]), #args
  local out, new, repeats = {0}, plain, 0
  if n > 3 then
    local total = tonumber(redis.call('GET', keys[1]) or '0')
    for i = 4, n, 2 do
      local key, id = 'crashonly:ids:' .. args[i], args[i + 1]
      local number = total + new + 1
      if redis.call('HSETEX', key, 'FNX', 'EX', args[2],
                    'FIELDS', 1, id, number) == 1 then
        new = new + 1
      else -- seen before: in an earlier call, or earlier in this one
        number = tonumber(redis.call('HGET', key, id))
        repeats = repeats + 1
      end
      out[#out + 1] = number
    end
  end
  if new > 0 then
    out[1] = redis.call('INCRBY', keys[1], new) - new + 1
    redis.call('HINCRBY', keys[2], args[1], new)
  end
  if repeats > 0 then
    redis.call('HINCRBY', keys[3], args[1], repeats)
  end
  return out
end
-- co_hits_6 KEYS total, workers: both, as one JSON snapshot. It writes
-- nothing, but is not flagged no-writes, so that a master without a
-- replica in sync (min-replicas-to-write) refuses it as it refuses a
-- count: a master the Sentinels deposed while it was away answers
-- NOREPLICAS, not totals that its successor has left behind.
local function hits(keys)
  local w, workers = redis.call('HGETALL', keys[2]), {}
  for i = 1, #w, 2 do workers[w[i]] = tonumber(w[i + 1]) end
  local total = tonumber(redis.call('GET', keys[1]) or '0')
  return cjson.encode({total = total, workers = workers})
end
redis.register_function('co_count_6', count)
redis.register_function('co_hits_6', hits)
