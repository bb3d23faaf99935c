#!lua name=crashonly_4
-- bench/crashonly_4.lua: the counting function before crashonly_5 (a
-- window's ids in one hash), kept only as make bench's peer for the
-- memory an id costs.
-- co_count_4 KEYS total, workers, repeats
--            ARGV worker, seconds, plain, id...
-- Count one loop pass of a worker's hits in one atomic step: `plain`
-- hits without an id, and one hit per id, where an id seen before gets
-- its first number. The new hits take the numbers after the total, the
-- plain ones first.
-- Ids are the fields of one hash a window of `seconds` of Redis's clock,
-- crashonly:ids:<window>: looked up in this window's hash and the last's,
-- with one HMGET each for the whole call, and the new ones set with one
-- HSET. A window's hash expires whole when the next window ends (set once,
-- when its marker field ~ is new), so an id is remembered for at least
-- `seconds` and at most twice that.
-- A call always writes: repeats are counted too, so that a WAITAOF after
-- a call of repeats alone waits for the first counts of those ids to be
-- on the replicas (a call that wrote nothing would leave its
-- connection's offset behind them).
-- Returns {first, the number of each id in order}: first is the first
-- plain hit's number (0 when the call counts nothing new).
local function count(keys, args)
  local plain, n = tonumber(args[3]), #args
  local out, new, repeats = {0}, plain, 0
  local w, cur, fresh
  if n > 3 then
    w = math.floor(redis.call('TIME')[1] / args[2])
    cur = 'crashonly:ids:' .. w
    local last = redis.call('HMGET', 'crashonly:ids:' .. (w - 1),
                            unpack(args, 4))
    local this = redis.call('HMGET', cur, unpack(args, 4))
    for i = 4, n do
      local seen = last[i - 3] or this[i - 3]
      if seen then
        out[i - 2], repeats = tonumber(seen), repeats + 1
      else
        -- New: -k, its place among the new hits, until first is known.
        fresh = fresh or {}
        local k = fresh[args[i]]
        if k then
          repeats = repeats + 1 -- twice in this call: one hit
        else
          new = new + 1
          k, fresh[args[i]] = new, new
        end
        out[i - 2] = -k
      end
    end
  end
  if new > 0 then
    local first = redis.call('INCRBY', keys[1], new) - new + 1
    redis.call('HINCRBY', keys[2], args[1], new)
    out[1] = first
    if fresh then
      local set, j = {'~', 1}, 2
      for id, k in pairs(fresh) do
        set[j + 1], set[j + 2], j = id, first + k - 1, j + 2
      end
      for i = 2, n - 2 do
        if out[i] < 0 then out[i] = first - out[i] - 1 end
      end
      if redis.call('HSET', cur, unpack(set)) == j / 2 then
        redis.call('EXPIREAT', cur, (w + 2) * args[2])
      end
    end
  end
  if repeats > 0 then
    redis.call('HINCRBY', keys[3], args[1], repeats)
  end
  return out
end
redis.register_function('co_count_4', count)
