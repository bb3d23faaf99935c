#!lua name=crashonly
-- function.lua: the Redis Function library that counts hits, the one
-- place where they are counted: in Redis, atomically, a call of a
-- worker's hits at a time. The worker is built with this file in it
-- (mk/embed) and loads it at start; tests and the bench load it as it is.
--
-- One library, one name, whatever its version: a new version REPLACEs
-- the old one, and only a worker whose VERSION is newer loads it, so an
-- old worker restarted during a rollout never downgrades the code.
-- Every version takes the calls of the ones before it (their functions'
-- names and arguments), so old and new workers share it while they run
-- side by side. FUNCTION LOAD persists it in the AOF and RDB, and it
-- reaches the replicas: it survives restarts and failovers.
local VERSION = 7 -- of this code: bump it with every change
local SCHEMA = 2  -- of the ids' layout, named in their keys (ids_prefix)

-- The prefix of the hashes that hold the ids in a schema's layout: the
-- key of an id is the prefix and its bucket (FNV-1a of the id,
-- crashonly/function.h), which the worker gives, the same for an id
-- whichever worker has it. Schema 1 is crashonly_6's, the library before
-- there were schemas.
local function ids_prefix(schema)
  if schema == 1 then
    return 'crashonly:ids:'
  end
  return 'crashonly:ids:' .. schema .. ':'
end
local PREFIX = ids_prefix(SCHEMA) -- made once: a number in a string costs

-- The schemas, in one small hash: `now`, the schema the ids are written
-- in, and a field for each other schema whose ids may still be live,
-- with an expiry of its own: `seconds` after the first count in the
-- schema after it (expand), when its ids have all expired and nothing
-- reads them any more (contract). An upgrade and a rollback alike: the
-- library before, newer or older, took the same calls. No hash at all is
-- a new Redis, or one that crashonly_6 counted in (schema 1) when it
-- holds a total.
local KEY_SCHEMAS = 'crashonly:schemas'

-- The prefixes of the other schemas whose ids may still be live.
local function old_schemas(seconds)
  local h, old, now = redis.call('HGETALL', KEY_SCHEMAS), {}, nil
  for i = 1, #h, 2 do
    if h[i] == 'now' then
      now = tonumber(h[i + 1])
    elseif tonumber(h[i]) ~= SCHEMA then
      old[#old + 1] = ids_prefix(tonumber(h[i]))
    end
  end
  if now ~= SCHEMA then -- the first count in this schema
    redis.call('HSETEX', KEY_SCHEMAS, 'FIELDS', 1, 'now', SCHEMA)
    -- No schema named, but a total: crashonly_6 counted here.
    now = now or redis.call('EXISTS', 'crashonly:hits') == 1 and 1
    if now then
      redis.call('HSETEX', KEY_SCHEMAS, 'EX', seconds, 'FIELDS', 1, now, 1)
      old[#old + 1] = ids_prefix(now)
    end
  end
  return old
end

-- Every write of a call can be undone, and is, when a later command of
-- the call fails (a key of the wrong type, an ACL changed, out of
-- memory): Redis keeps what a function wrote before an error, and an id
-- holding a number that the total never took would hand that number out
-- twice. The ids this call set are the ones holding a number above the
-- total it found (`done.before`: no number is ever handed out above the
-- total), so nothing is noted an id; `done` says what else it wrote, the
-- hits the total and the worker's count took. The call runs in one
-- pcall, and the undoing commands are checked against the caller's ACL
-- before anything is written.
local function undo(done, keys, args)
  for i = 4, done.before and #args or 0, 2 do
    local key, id = PREFIX .. args[i], args[i + 1]
    local number = redis.pcall('HGET', key, id) -- a key of the wrong type?
    if type(number) == 'string' and tonumber(number) > done.before then
      redis.call('HDEL', key, id)
    end
  end
  if done.total then
    redis.call('DECRBY', keys[1], done.total)
  end
  if done.worker then
    redis.call('HINCRBY', keys[2], args[1], -done.worker)
  end
end

local function may_undo(keys)
  return redis.acl_check_cmd('HDEL', PREFIX .. 0, 'id') and
         redis.acl_check_cmd('DECRBY', keys[1], 1) and
         redis.acl_check_cmd('HINCRBY', keys[2], 'w', -1)
end

-- co_count KEYS total, workers, repeats
--          ARGV worker, seconds, plain, bucket, id, bucket, id...
-- Count a call of a worker's hits in one atomic step: `plain` hits
-- without an id, and one hit per id, where an id seen in the last
-- `seconds` gets its first number. The new hits take the numbers after
-- the total, the plain ones first. An id is a field of a small hash, its
-- number the value, with an expiry of its own, `seconds` of Redis's clock
-- after its first count (HSETEX FNX, Redis 8: sets a new id with its
-- number, or finds it there). So few fields a hash, Redis keeps each one
-- a listpack. The script runs alone, so the numbers after the total are
-- free until its INCRBY takes them.
-- A call always writes: repeats are counted too, so that a WAITAOF after
-- a call of repeats alone waits for the first counts of those ids to be
-- on the replicas.
-- Returns {first, the number of each id in order}: first is the first
-- new hit's number (0 when the call counts nothing new).
local function count_all(keys, args, done)
  local worker, seconds, plain, n = args[1], args[2], tonumber(args[3]), #args
  local out, new, repeats = {0}, plain, 0
  if n > 3 then
    local total = tonumber(redis.call('GET', keys[1]) or '0')
    done.before = total
    local old = old_schemas(seconds)
    local nold = #old
    for i = 4, n, 2 do
      local bucket, id = args[i], args[i + 1]
      local key, number = PREFIX .. bucket, false
      for j = 1, nold do
        number = number or redis.call('HGET', old[j] .. bucket, id)
      end
      if number then -- counted before the schema changed
        repeats = repeats + 1
      else
        number = total + new + 1
        if redis.call('HSETEX', key, 'FNX', 'EX', seconds,
                      'FIELDS', 1, id, number) == 1 then
          new = new + 1
        else -- seen before: in an earlier call, or earlier in this one
          number = redis.call('HGET', key, id)
          repeats = repeats + 1
        end
      end
      out[i / 2] = tonumber(number) -- the first id's (i = 4) is out[2]
    end
  end
  if new > 0 then
    out[1] = redis.call('INCRBY', keys[1], new) - new + 1
    done.total = new
    redis.call('HINCRBY', keys[2], worker, new)
    done.worker = new
  end
  if repeats > 0 then
    redis.call('HINCRBY', keys[3], worker, repeats)
  end
  return out
end

local function count(keys, args)
  local done = {}
  if not may_undo(keys) then
    return redis.error_reply('NOPERM the caller may not undo a count')
  end
  local ok, out = pcall(count_all, keys, args, done)
  if not ok then -- out: redis.call's error, a table, or Lua's, a string
    undo(done, keys, args)
    return redis.error_reply(type(out) == 'table' and out.err or tostring(out))
  end
  return out
end

-- co_hits KEYS total, workers: both, as one JSON snapshot. It writes
-- nothing, but is not flagged no-writes, so that a master without a
-- replica in sync (min-replicas-to-write) refuses it as it refuses a
-- count: a master the Sentinels deposed while it was away answers
-- NOREPLICAS, not totals that its successor has left behind.
local function hits(keys)
  local w, workers = redis.call('HGETALL', keys[2]), {}
  for i = 1, #w, 2 do
    workers[w[i]] = tonumber(w[i + 1])
  end
  local total = tonumber(redis.call('GET', keys[1]) or '0')
  return cjson.encode({total = total, workers = workers})
end

-- co_version: {VERSION, SCHEMA}, what a worker reads before it loads.
local function version()
  return {VERSION, SCHEMA}
end

redis.register_function('co_count', count)
redis.register_function('co_hits', hits)
redis.register_function{function_name = 'co_version', callback = version,
                        flags = {'no-writes'}}
-- crashonly_6's names, the same calls: its workers, still running while
-- this library replaces theirs, count here too.
redis.register_function('co_count_6', count)
redis.register_function('co_hits_6', hits)
