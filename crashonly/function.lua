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
local SCHEMA = 2  -- of the ids' layout, named in their keys (ids_key)

-- The hash that holds an id of a bucket, in a schema's layout. The
-- bucket (FNV-1a of the id, crashonly/function.h) is given by the worker,
-- the same for an id whichever worker has it. Schema 1 is crashonly_6's,
-- the library before there were schemas.
local function ids_key(schema, bucket)
  if schema == 1 then
    return 'crashonly:ids:' .. bucket
  end
  return 'crashonly:ids:' .. schema .. ':' .. bucket
end

-- The schemas, in one small hash: `now`, the schema the ids are written
-- in, and a field for each other schema whose ids may still be live,
-- with an expiry of its own: `seconds` after the first count in the
-- schema after it (expand), when its ids have all expired and nothing
-- reads them any more (contract). An upgrade and a rollback alike: the
-- library before, newer or older, took the same calls. No hash at all is
-- a new Redis, or one that crashonly_6 counted in (schema 1).
local KEY_SCHEMAS = 'crashonly:schemas'

-- The other schemas whose ids may still be live.
local function old_schemas(seconds)
  local h, old, now = redis.call('HGETALL', KEY_SCHEMAS), {}, nil
  for i = 1, #h, 2 do
    if h[i] == 'now' then
      now = tonumber(h[i + 1])
    elseif tonumber(h[i]) ~= SCHEMA then
      old[#old + 1] = tonumber(h[i])
    end
  end
  if now ~= SCHEMA then -- the first count in this schema
    now = now or 1
    redis.call('HSETEX', KEY_SCHEMAS, 'FIELDS', 1, 'now', SCHEMA)
    redis.call('HSETEX', KEY_SCHEMAS, 'EX', seconds, 'FIELDS', 1, now, 1)
    old[#old + 1] = now
  end
  return old
end

-- Every write of a call can be undone by the command beside it, and is,
-- when a later command of the call fails (a key of the wrong type, an
-- ACL changed, out of memory): Redis keeps what a function wrote before
-- an error, and an id holding a number that the total never took would
-- hand that number out twice. The undoing commands are checked against
-- the caller's ACL before anything is written.
local function undo_all(undo)
  for i = #undo, 1, -1 do
    redis.call(unpack(undo[i]))
  end
end

local function try(undo, ...)
  local r = redis.pcall(...)
  if type(r) == 'table' and r.err then
    undo_all(undo)
    error(r)
  end
  return r
end

local function may_undo(keys)
  return redis.acl_check_cmd('HDEL', ids_key(SCHEMA, 0), 'id') and
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
local function count(keys, args)
  local plain, n = tonumber(args[3]), #args
  local out, new, repeats, undo = {0}, plain, 0, {}
  if not may_undo(keys) then
    return redis.error_reply('NOPERM the caller may not undo a count')
  end
  if n > 3 then
    local total = tonumber(redis.call('GET', keys[1]) or '0')
    local old = old_schemas(args[2])
    for i = 4, n, 2 do
      local bucket, id = args[i], args[i + 1]
      local key, number = ids_key(SCHEMA, bucket), false
      for j = 1, #old do
        number = number or try(undo, 'HGET', ids_key(old[j], bucket), id)
      end
      if number then -- counted before the schema changed
        repeats = repeats + 1
      else
        number = total + new + 1
        if try(undo, 'HSETEX', key, 'FNX', 'EX', args[2],
               'FIELDS', 1, id, number) == 1 then
          new = new + 1
          undo[#undo + 1] = {'HDEL', key, id}
        else -- seen before: in an earlier call, or earlier in this one
          number = redis.call('HGET', key, id)
          repeats = repeats + 1
        end
      end
      out[#out + 1] = tonumber(number)
    end
  end
  if new > 0 then
    out[1] = try(undo, 'INCRBY', keys[1], new) - new + 1
    undo[#undo + 1] = {'DECRBY', keys[1], new}
    try(undo, 'HINCRBY', keys[2], args[1], new)
    undo[#undo + 1] = {'HINCRBY', keys[2], args[1], -new}
  end
  if repeats > 0 then
    try(undo, 'HINCRBY', keys[3], args[1], repeats)
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
