#!lua name=crashonly_5
-- bench/crashonly_5.lua: the counting function before crashonly_6 (a
-- window's ids in 16384 small hashes, each expiring whole), kept only as
-- make bench's peer for what a live id costs Redis.
-- co_count_5 KEYS total, workers, repeats
--            ARGV worker, seconds, plain, bucket, id, bucket, id...
-- Count one loop pass of a worker's hits in one atomic step: `plain`
-- hits without an id, and one hit per id, where an id seen before gets
-- its first number. The new hits take the numbers after the total, the
-- plain ones first.
-- Ids are kept a window of `seconds` of Redis's clock at a time, in
-- small hashes: an id's bucket (function_bucket, given by the worker:
-- the same for an id whichever worker has it) names its hash in each
-- window, crashonly:ids:<window>:<bucket>. So few fields a hash, Redis
-- keeps each one as a listpack: an id costs its bytes and its number's,
-- not a hash table entry and two strings. An id is looked up in this
-- window's hash and the last's, and set, if new, in this window's. A
-- window's hash expires whole when the next window ends (set once, when
-- its marker field ~ is new), so an id is remembered for at least
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
    cur = 'crashonly:ids:' .. w .. ':'
    local last = 'crashonly:ids:' .. (w - 1) .. ':'
    for i = 4, n, 2 do
      local b, id = args[i], args[i + 1]
      local seen = redis.call('HGET', cur .. b, id) or
                   redis.call('HGET', last .. b, id)
      if seen then
        out[#out + 1], repeats = tonumber(seen), repeats + 1
      else
        -- New: -k, its place among the new hits, until first is known.
        fresh = fresh or {}
        local k = fresh[id]
        if k then
          repeats = repeats + 1 -- twice in this call: one hit
        else
          new = new + 1
          k, fresh[id] = new, new
        end
        out[#out + 1] = -k
      end
    end
  end
  if new > 0 then
    local first = redis.call('INCRBY', keys[1], new) - new + 1
    redis.call('HINCRBY', keys[2], args[1], new)
    out[1] = first
    if fresh then
      for i = 2, #out do
        if out[i] < 0 then out[i] = first - out[i] - 1 end
      end
      for i = 4, n, 2 do
        local id = args[i + 1]
        local k = fresh[id]
        if k then
          fresh[id] = nil -- once, for an id twice in this call
          local key = cur .. args[i]
          if redis.call('HSET', key, '~', 1, id, first + k - 1) == 2 then
            redis.call('EXPIREAT', key, (w + 2) * args[2])
          end
        end
      end
    end
  end
  if repeats > 0 then
    redis.call('HINCRBY', keys[3], args[1], repeats)
  end
  return out
end
redis.register_function('co_count_5', count)
