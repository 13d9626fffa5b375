import { isTerminal, taskStatuses } from '../../status.js';

/**
 * The Lua scripts of the Redis task store. Each runs atomically in Redis; each write takes an op
 * id (made once per store call) and records it with its result in a small per-task log, so the
 * same command applied twice (ioredis resends unanswered commands after a reconnect) has the
 * effect of one and the same answer. Values in task hashes are JSON (`"running"`, `12`), written
 * by the client: a script compares and copies them, and only decodes the few it reasons about.
 *
 * Scripts that walk many tasks (`query`, `heartbeat`, `prune`, `listSessions`) name per-task keys
 * from the prefix (`<prefix>:task:<id>`, the form `RedisKeys` uses), not from KEYS: they need a
 * single Redis (or every key on one cluster slot, with a `{hash tag}` prefix).
 */

/** How many recent op ids a task (or the deployment, for prune) remembers for replays. */
export const opLogLength = 64;

const statusSetIndex = `{${taskStatuses.map((status, index) => `['${status}']=${index}`).join(', ')}}`;
const terminalTable = `{${taskStatuses.filter(isTerminal).map((status) => `['${status}']=true`).join(', ')}}`;

/** Helpers every script starts with. */
const prelude = `
local terminal = ${terminalTable}
-- Offset of a status's set among the status KEYS (which start at KEYS[7]).
local statusIndex = ${statusSetIndex}
-- The result a replayed op gave the first time, or nil.
local function replayed(ops, opId)
  local done = redis.call('HGET', ops, opId)
  if done then return done end
  return nil
end
-- Records op opId's result; keeps the last ${opLogLength}; expires the log with the task's
-- checkpoints when ttl is given (the task has ended).
local function remember(ops, opq, opId, result, ttl)
  redis.call('HSET', ops, opId, result)
  if redis.call('RPUSH', opq, opId) > ${opLogLength} then
    redis.call('HDEL', ops, redis.call('LPOP', opq))
  end
  if ttl then
    redis.call('PEXPIRE', ops, ttl)
    redis.call('PEXPIRE', opq, ttl)
  end
end
local function statusOf(task)
  local raw = redis.call('HGET', task, 'status')
  if not raw then return nil end
  return cjson.decode(raw)
end
`;

/**
 * create — a new task record and its index entries.
 * KEYS: 1 task:<id>, 2 tasks, 3 session-tasks:<sessionId>, 4 ended, 5 ops:<id>, 6 opq:<id>,
 *       7..12 status:<status> (every status, `taskStatuses` order).
 * ARGV: 1 op id, 2 id, 3 createdAt, 4 status, 5 endedAt ('' = none), 6 ended ttl ms,
 *       7.. field, JSON value, field, JSON value…
 * Returns 'ok' or 'exists'.
 */
export const createScript = `${prelude}
if replayed(KEYS[5], ARGV[1]) then return 'ok' end
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
local status = ARGV[4]
redis.call('HSET', KEYS[1], unpack(ARGV, 7))
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
redis.call('SADD', KEYS[7 + statusIndex[status]], ARGV[2])
if terminal[status] and ARGV[5] ~= '' then redis.call('ZADD', KEYS[4], ARGV[5], ARGV[2]) end
remember(KEYS[5], KEYS[6], ARGV[1], 'ok', terminal[status] and ARGV[6] or nil)
return 'ok'
`;

/**
 * write — the one conditional write of a task: a transition, progress, output lines and a
 * checkpoint step, any of them, applied together only if the condition holds.
 * KEYS: 1 task:<id>, 2 output:<id>, 3 checkpoints:<id>, 4 ops:<id>, 5 opq:<id>, 6 ended,
 *       7..12 status:<status> (every status, `taskStatuses` order).
 * ARGV: 1 op id, 2 id, 3 condition JSON {status?: [..], owner?: s, epoch?: n},
 *       4 change JSON {status?: s, set?: {field: JSON value}, unset?: [field], lines?: [..],
 *         count?: n, step?: checkpoint step JSON {iteration, messages}, record?: true},
 *       5 ended ttl ms, 6 output lines kept.
 * Returns {'ok'} (then the record's field/value pairs when change.record), {'not_found'},
 * {'status', current} or {'fenced', status, owner, epoch}.
 * When the task is (or becomes) ended, its checkpoints and op log get the ended ttl.
 */
export const writeScript = `${prelude}
local taskKey, id = KEYS[1], ARGV[2]
local condition, change = cjson.decode(ARGV[3]), cjson.decode(ARGV[4])
local function answer()
  if change.record then
    local reply = redis.call('HGETALL', taskKey)
    table.insert(reply, 1, 'ok')
    return reply
  end
  return {'ok'}
end
if replayed(KEYS[4], ARGV[1]) then return answer() end
local status = statusOf(taskKey)
if not status then return {'not_found'} end
if condition.status then
  local allowed = false
  for _, expected in ipairs(condition.status) do
    if expected == status then allowed = true end
  end
  if not allowed then return {'status', status} end
end
if condition.owner ~= nil then
  local rawOwner = redis.call('HGET', taskKey, 'owner')
  local owner = rawOwner and cjson.decode(rawOwner) or ''
  local epoch = tonumber(redis.call('HGET', taskKey, 'epoch') or '0')
  if owner ~= condition.owner or (condition.epoch ~= nil and epoch ~= condition.epoch) then
    return {'fenced', status, owner, tostring(epoch)}
  end
end
local now = status
if change.status then
  now = change.status
  redis.call('HSET', taskKey, 'status', cjson.encode(now))
  redis.call('SMOVE', KEYS[7 + statusIndex[status]], KEYS[7 + statusIndex[now]], id)
end
if change.set then
  for field, value in pairs(change.set) do redis.call('HSET', taskKey, field, value) end
end
if change.unset then
  for _, field in ipairs(change.unset) do redis.call('HDEL', taskKey, field) end
end
if change.count and change.count > 0 then
  local lines = tonumber(redis.call('HGET', taskKey, 'outputLines') or '0') + change.count
  redis.call('HSET', taskKey, 'outputLines', tostring(lines))
end
if change.lines and #change.lines > 0 then
  redis.call('RPUSH', KEYS[2], unpack(change.lines))
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[6]), -1)
end
if change.step then
  redis.call('RPUSH', KEYS[3], change.step)
end
local ttl = nil
if terminal[now] then
  ttl = ARGV[5]
  if change.status and change.set and change.set.endedAt then
    redis.call('ZADD', KEYS[6], change.set.endedAt, id)
  end
  redis.call('PEXPIRE', KEYS[3], ttl)
end
remember(KEYS[4], KEYS[5], ARGV[1], 'ok', ttl)
return answer()
`;

/**
 * addSteer — queue a steering message.
 * KEYS: 1 task:<id>, 2 steers:<id>, 3 steers-queued:<id>, 4 steer-seq, 5 ops:<id>, 6 opq:<id>.
 * ARGV: 1 op id, 2 task id, 3 message, 4 now, 5 ended ttl ms.
 * Returns the steer as JSON, or nil for an unknown task.
 */
export const addSteerScript = `${prelude}
local done = replayed(KEYS[5], ARGV[1])
if done then return done end
local status = statusOf(KEYS[1])
if not status then return false end
local id = redis.call('INCR', KEYS[4])
local steer = cjson.encode({id = id, taskId = ARGV[2], message = ARGV[3], state = 'queued', createdAt = tonumber(ARGV[4])})
redis.call('HSET', KEYS[2], id, steer)
redis.call('RPUSH', KEYS[3], id)
remember(KEYS[5], KEYS[6], ARGV[1], steer, terminal[status] and ARGV[5] or nil)
return steer
`;

/**
 * settleSteers — mark every queued steer delivered (takeSteers) or missed (missSteers).
 * KEYS: 1 task:<id>, 2 steers:<id>, 3 steers-queued:<id>, 4 ops:<id>, 5 opq:<id>.
 * ARGV: 1 op id, 2 new state, 3 now, 4 ended ttl ms.
 * Returns a JSON array of the settled steers in order, or nil for an unknown task.
 */
export const settleSteersScript = `${prelude}
local done = replayed(KEYS[4], ARGV[1])
if done then return done end
local status = statusOf(KEYS[1])
if not status then return false end
local ids = redis.call('LRANGE', KEYS[3], 0, -1)
-- Nothing queued (the usual case, before every model call): nothing written, nothing to remember.
if #ids == 0 then return '[]' end
redis.call('DEL', KEYS[3])
local settled = {}
for _, steerId in ipairs(ids) do
  local steer = cjson.decode(redis.call('HGET', KEYS[2], steerId))
  steer.state = ARGV[2]
  steer.settledAt = tonumber(ARGV[3])
  local encoded = cjson.encode(steer)
  redis.call('HSET', KEYS[2], steerId, encoded)
  settled[#settled + 1] = encoded
end
local result = '[' .. table.concat(settled, ',') .. ']'
remember(KEYS[4], KEYS[5], ARGV[1], result, terminal[status] and ARGV[4] or nil)
return result
`;

/**
 * read — whether the task exists, and one of its collections.
 * KEYS: 1 task:<id>, 2 the collection (output:<id> or checkpoints:<id> list, steers:<id> hash).
 * ARGV: 1 'list' (then 2 = how many last entries, '' = all) or 'hash'.
 * Returns nil for an unknown task, else the LRANGE or HGETALL reply.
 */
export const readScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if ARGV[1] == 'hash' then return redis.call('HGETALL', KEYS[2]) end
if ARGV[2] == '' then return redis.call('LRANGE', KEYS[2], 0, -1) end
return redis.call('LRANGE', KEYS[2], -tonumber(ARGV[2]), -1)
`;

/**
 * query — list or count tasks, newest first (createdAt, then id, descending).
 * KEYS: 1 the order: tasks, or session-tasks:<sessionId>. Reads <prefix>:task:<id> of each task
 *       it considers and, with a status filter and no session, <prefix>:status:<status>.
 * ARGV: 1 prefix, 2 'list' | 'count', 3 limit, 4 cwd as JSON ('' = any),
 *       5 statuses as a JSON array ('' = any), 6 '1' when KEYS[1] is a session's order.
 * Returns a list of field/value arrays, or the count. With statuses and no session it reads only
 * the tasks in those statuses (the scheduler's "queued or interrupted" among thousands ended);
 * otherwise it walks the order, newest first, and stops at the limit.
 */
export const queryScript = `
local prefix, mode, limit, cwd = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local statuses = ARGV[5] ~= '' and cjson.decode(ARGV[5]) or nil
local found = {}
if statuses and ARGV[6] ~= '1' then
  local candidates = {}
  for _, status in ipairs(statuses) do
    for _, id in ipairs(redis.call('SMEMBERS', prefix .. ':status:' .. status)) do
      local fields = redis.call('HMGET', prefix .. ':task:' .. id, 'createdAt', 'cwd')
      if fields[1] and (cwd == '' or fields[2] == cwd) then
        candidates[#candidates + 1] = {id = id, at = tonumber(fields[1])}
      end
    end
  end
  if mode == 'count' then return #candidates end
  -- Byte order on ties, as a sorted set orders its members (Lua's < on strings follows the locale).
  local function newer(a, b)
    if a.at ~= b.at then return a.at > b.at end
    local length = math.min(#a.id, #b.id)
    for index = 1, length do
      local x, y = string.byte(a.id, index), string.byte(b.id, index)
      if x ~= y then return x > y end
    end
    return #a.id > #b.id
  end
  table.sort(candidates, newer)
  for index = 1, math.min(limit, #candidates) do
    found[index] = redis.call('HGETALL', prefix .. ':task:' .. candidates[index].id)
  end
  return found
end
local wanted = nil
if statuses then
  wanted = {}
  for _, status in ipairs(statuses) do wanted[cjson.encode(status)] = true end
end
local count, start, chunk = 0, 0, 256
local total = redis.call('ZCARD', KEYS[1])
while start < total do
  for _, id in ipairs(redis.call('ZREVRANGE', KEYS[1], start, start + chunk - 1)) do
    local key = prefix .. ':task:' .. id
    local fields = redis.call('HMGET', key, 'status', 'cwd')
    if fields[1] and (not wanted or wanted[fields[1]]) and (cwd == '' or fields[2] == cwd) then
      count = count + 1
      if mode == 'list' then
        found[#found + 1] = redis.call('HGETALL', key)
        if count >= limit then return found end
      end
    end
  end
  start = start + chunk
end
if mode == 'count' then return count end
return found
`;

/**
 * heartbeat — renew the lease of every running task of one owner.
 * KEYS: 1 status:running. Reads and writes <prefix>:task:<id> of each running task.
 * ARGV: 1 prefix, 2 owner, 3 leaseExpiresAt as JSON.
 * Returns the ids renewed. Applying it twice is applying it once.
 */
export const heartbeatScript = `
local renewed = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. ':task:' .. id
  local owner = redis.call('HGET', key, 'owner')
  if owner and cjson.decode(owner) == ARGV[2] then
    redis.call('HSET', key, 'leaseExpiresAt', ARGV[3])
    renewed[#renewed + 1] = id
  end
end
return renewed
`;

/**
 * prune — delete up to a batch of ended tasks that ended before a time, with all they hold.
 * KEYS: 1 ended, 2 tasks, 3 ops, 4 opq. Deletes, per task, <prefix>:task|output|checkpoints|
 *       steers|steers-queued|ops|opq:<id>, and its entries in session-tasks:<sessionId>,
 *       status:<status>, tasks and ended.
 * ARGV: 1 op id, 2 prefix, 3 endedBefore (exclusive), 4 batch size.
 * Returns {pruned, examined}: the caller repeats while a full batch was examined.
 */
export const pruneScript = `${prelude}
local done = replayed(KEYS[3], ARGV[1])
if done then return cjson.decode(done) end
local prefix = ARGV[2]
local pruned = 0
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
for _, id in ipairs(ids) do
  local key = prefix .. ':task:' .. id
  local fields = redis.call('HMGET', key, 'status', 'sessionId')
  if fields[1] and terminal[cjson.decode(fields[1])] then
    redis.call('DEL', key, prefix .. ':output:' .. id, prefix .. ':checkpoints:' .. id, prefix .. ':steers:' .. id,
      prefix .. ':steers-queued:' .. id, prefix .. ':ops:' .. id, prefix .. ':opq:' .. id)
    redis.call('ZREM', prefix .. ':session-tasks:' .. cjson.decode(fields[2]), id)
    redis.call('SREM', prefix .. ':status:' .. cjson.decode(fields[1]), id)
    redis.call('ZREM', KEYS[2], id)
    pruned = pruned + 1
  end
  redis.call('ZREM', KEYS[1], id)
end
local result = {pruned, #ids}
remember(KEYS[3], KEYS[4], ARGV[1], cjson.encode(result), nil)
return result
`;

/**
 * saveSession — create or replace a session; createdAt is kept from the first save.
 * KEYS: 1 session:<id>, 2 sessions.
 * ARGV: 1 id, 2 updatedAt, 3 id JSON, 4 cwd JSON, 5 createdAt JSON, 6 updatedAt JSON, 7 messages JSON.
 * Idempotent as it stands: saving the same session twice is saving it once.
 */
export const saveSessionScript = `
redis.call('HSET', KEYS[1], 'id', ARGV[3], 'cwd', ARGV[4], 'updatedAt', ARGV[6], 'messages', ARGV[7])
redis.call('HSETNX', KEYS[1], 'createdAt', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 'ok'
`;

/**
 * listSessions — most recently updated first.
 * KEYS: 1 sessions. Reads <prefix>:session:<id> of each.
 * ARGV: 1 prefix, 2 cwd as JSON ('' = any), 3 limit.
 * Returns a list of field/value arrays.
 */
export const listSessionsScript = `
local found, start, chunk, limit = {}, 0, 256, tonumber(ARGV[3])
local total = redis.call('ZCARD', KEYS[1])
while start < total and #found < limit do
  for _, id in ipairs(redis.call('ZREVRANGE', KEYS[1], start, start + chunk - 1)) do
    local key = ARGV[1] .. ':session:' .. id
    if ARGV[2] == '' or redis.call('HGET', key, 'cwd') == ARGV[2] then
      found[#found + 1] = redis.call('HGETALL', key)
      if #found >= limit then return found end
    end
  end
  start = start + chunk
end
return found
`;
