#!lua name=crashonly_3
-- bench/crashonly_3.lua: the previous counting function (a key with its own
-- TTL an id), kept only as make bench's peer for the memory an id costs.
-- co_count_3 KEYS total, workers, repeats, id...
--            ARGV worker, seconds, plain
-- Count one loop pass of a worker's hits in one atomic step: `plain`
-- hits without an id, numbered first .. first + plain - 1, and one
-- hit per id key, where an id seen before gets its first number.
-- A call always writes: repeats are counted too, so that a WAITAOF
-- after a call of repeats alone waits for the first counts of those
-- ids to be on the replicas (a call that wrote nothing would leave
-- its connection's offset behind them).
-- Returns {first, the number of each id key in order}.
local function count(keys, args)
  local n = tonumber(redis.call('GET', keys[1]) or '0')
  local new = tonumber(args[3])
  local out, repeats = {n + 1}, 0
  n = n + new
  for i = 4, #keys do
    local seen = redis.call('SET', keys[i], n + 1, 'NX', 'GET',
                            'EX', args[2])
    if seen then
      out[i - 2], repeats = tonumber(seen), repeats + 1
    else
      n, new = n + 1, new + 1
      out[i - 2] = n
    end
  end
  if new > 0 then
    redis.call('INCRBY', keys[1], new)
    redis.call('HINCRBY', keys[2], args[1], new)
  end
  if repeats > 0 then
    redis.call('HINCRBY', keys[3], args[1], repeats)
  end
  return out
end
-- co_hits_3 KEYS total, workers: both, as one JSON snapshot.
local function hits(keys)
  local w, workers = redis.call('HGETALL', keys[2]), {}
  for i = 1, #w, 2 do workers[w[i]] = tonumber(w[i + 1]) end
  local total = tonumber(redis.call('GET', keys[1]) or '0')
  return cjson.encode({total = total, workers = workers})
end
redis.register_function('co_count_3', count)
redis.register_function{function_name = 'co_hits_3',
  callback = hits, flags = {'no-writes'}}
