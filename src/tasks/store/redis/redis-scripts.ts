import { isTerminal, taskStatuses } from '../../status.js';

/**
 * The Lua scripts of the Redis task store. Each runs atomically in Redis. Values in task hashes
 * are JSON (`"running"`, `12`), written by the client: a script compares and copies them, and
 * decodes only the few it reasons about.
 *
 * Replays. ioredis resends, after a reconnect, every command it had sent without an answer, and
 * some of them had already run. So every write of a task carries its writer (one id per store
 * instance) and a sequence number (one counter per store, growing with each call); a task keeps
 * the last number each writer applied (`seen:<id>`). A command whose number is not above it is a
 * replay: it changes nothing and answers as the first time did. That needs no window, however
 * many commands were in flight, because one writer's calls about one task reach Redis in call
 * order. The few answers that carry data or a refusal (a new steer, the steers taken, "it is
 * completed, not running") are kept in `ops:<id>` (the last `opLogLength`, oldest first in
 * `opq:<id>`); the others answer "done" (with the record as it is now, for a transition).
 *
 * Scripts that walk many tasks (`query`, `heartbeat`, `prune`, `listSessions`) name per-task keys
 * from the prefix (`<prefix>:task:<id>`, the form `RedisKeys` uses), not from KEYS: they need a
 * single Redis (or every key on one cluster slot, with a `{hash tag}` prefix).
 */

/** How many refusals and data-carrying answers a task keeps for replays. */
export const opLogLength = 64;

const statusSetIndex = `{${taskStatuses.map((status, index) => `['${status}']=${index}`).join(', ')}}`;
const terminalTable = `{${taskStatuses
  .filter(isTerminal)
  .map((status) => `['${status}']=true`)
  .join(', ')}}`;

/**
 * Helpers every task write starts with. Its KEYS begin 1 task:<id>, 2 seen:<id>, 3 ops:<id>,
 * 4 opq:<id>; its ARGV 1 writer, 2 sequence number, 3 ended ttl ms.
 */
const prelude = `
local terminal = ${terminalTable}
-- Offset of a status's set among the status KEYS.
local statusIndex = ${statusSetIndex}
local taskKey, seenKey, opsKey, opqKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local writer, seq, ttl = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local op = writer .. ':' .. ARGV[2]
-- nil for a new op; for a replay, its kept answer, or true when none was kept.
local function replayed()
  if seq > tonumber(redis.call('HGET', seenKey, writer) or '0') then return nil end
  return redis.call('HGET', opsKey, op) or true
end
-- Marks the op applied, keeps its answer when given, and once the task has ended lets its replay
-- keys expire with its checkpoints.
local function applied(answer, ended)
  redis.call('HSET', seenKey, writer, ARGV[2])
  if answer then
    redis.call('HSET', opsKey, op, answer)
    if redis.call('RPUSH', opqKey, op) > ${opLogLength} then redis.call('HDEL', opsKey, redis.call('LPOP', opqKey)) end
  end
  if ended then
    for _, key in ipairs({seenKey, opsKey, opqKey}) do redis.call('PEXPIRE', key, ttl) end
  end
end
-- nil when fence ({owner, epoch}) holds or is nil; else the refusal {'fenced', status, owner, epoch}.
-- It holds while the task is held (running, or input_required: parked waiting for an approval)
-- under that owner and epoch (an absent epoch counts as 0).
local function fenceRefusal(fence, status)
  if fence == nil then return nil end
  local rawOwner = redis.call('HGET', taskKey, 'owner')
  local owner = rawOwner and cjson.decode(rawOwner) or ''
  local epoch = tonumber(redis.call('HGET', taskKey, 'epoch') or '0')
  if (status == 'running' or status == 'input_required') and owner == fence.owner and epoch == fence.epoch then return nil end
  return {'fenced', status, owner, tostring(epoch)}
end
local function statusOf(task)
  local raw = redis.call('HGET', task, 'status')
  if not raw then return nil end
  return cjson.decode(raw)
end
`;

/**
 * create — a new task record and its index entries.
 * KEYS: 1 task:<id>, 2 seen:<id>, 3 ops:<id>, 4 opq:<id>, 5 tasks, 6 session-tasks:<sessionId>,
 *       7 ended, 8..14 status:<status> (every status, `taskStatuses` order).
 * ARGV: 1 writer, 2 seq, 3 ended ttl ms, 4 id, 5 createdAt, 6 status, 7 endedAt ('' = none),
 *       8.. field, JSON value, field, JSON value…
 * Returns 'ok' or 'exists'.
 */
export const createScript = `${prelude}
local again = replayed()
if again then return again == true and 'ok' or again end
local existing = statusOf(taskKey)
if existing then
  applied('exists', terminal[existing])
  return 'exists'
end
local id, status = ARGV[4], ARGV[6]
redis.call('HSET', taskKey, unpack(ARGV, 8))
redis.call('ZADD', KEYS[5], ARGV[5], id)
redis.call('ZADD', KEYS[6], ARGV[5], id)
redis.call('SADD', KEYS[8 + statusIndex[status]], id)
if terminal[status] and ARGV[7] ~= '' then redis.call('ZADD', KEYS[7], ARGV[7], id) end
applied(nil, terminal[status])
return 'ok'
`;

/**
 * write — the one conditional write of a task: a transition, progress, output lines and a
 * checkpoint step, any of them, applied together only if the condition holds.
 * KEYS: 1 task:<id>, 2 seen:<id>, 3 ops:<id>, 4 opq:<id>, 5 output:<id>, 6 checkpoints:<id>,
 *       7 ended, 8..14 status:<status> (every status, `taskStatuses` order).
 * ARGV: 1 writer, 2 seq, 3 ended ttl ms, 4 id, 5 condition JSON {status?: [..], fence?: {owner, epoch}},
 *       6 change JSON {status?: s, set?: {field: JSON value}, unset?: [field], epoch?: true (add 1),
 *         count?: n (lines in the write), at?: n (outputLines before them, as the writer counts),
 *         stepNo?: 'n', step?: checkpoint step JSON {format, iteration, messages}, record?: true},
 *       7 output lines kept, 8.. the write's last lines (at most the lines kept). (Lines travel as
 *       plain arguments, not in the JSON: a line cut inside an emoji holds half a surrogate pair,
 *       which Lua's JSON decoder refuses; every JSON value inside the change is itself JSON text,
 *       so ASCII-safe.)
 * The condition's statuses are checked first, then its fence. Lines the task already counted past
 * `at` are not added again; a step number already stored is left as it is.
 * Returns {'ok'} (then the record's field/value pairs when change.record), {'not_found'},
 * {'status', current} or {'fenced', status, owner, epoch}.
 * When the task is (or becomes) ended, its checkpoints get the ended ttl.
 */
export const writeScript = `${prelude}
local id = ARGV[4]
local condition, change = cjson.decode(ARGV[5]), cjson.decode(ARGV[6])
local function answer()
  if change.record then
    local reply = redis.call('HGETALL', taskKey)
    table.insert(reply, 1, 'ok')
    return reply
  end
  return {'ok'}
end
local function refuse(reply, status)
  applied(cjson.encode(reply), terminal[status])
  return reply
end
local again = replayed()
if again then
  if again == true then return answer() end
  return cjson.decode(again)
end
local status = statusOf(taskKey)
if not status then return {'not_found'} end
if condition.status then
  local allowed = false
  for _, expected in ipairs(condition.status) do
    if expected == status then allowed = true end
  end
  if not allowed then return refuse({'status', status}, status) end
end
local fenced = fenceRefusal(condition.fence, status)
if fenced then return refuse(fenced, status) end
local now = status
if change.status then
  now = change.status
  redis.call('HSET', taskKey, 'status', cjson.encode(now))
  redis.call('SMOVE', KEYS[8 + statusIndex[status]], KEYS[8 + statusIndex[now]], id)
end
if change.set then
  for field, value in pairs(change.set) do redis.call('HSET', taskKey, field, value) end
end
if change.unset then
  for _, field in ipairs(change.unset) do redis.call('HDEL', taskKey, field) end
end
if change.epoch then redis.call('HINCRBY', taskKey, 'epoch', 1) end
if change.count and change.count > 0 then
  local before = tonumber(redis.call('HGET', taskKey, 'outputLines') or '0')
  -- The first lines of the write that an earlier copy of it already added.
  local skip = change.at and math.max(0, before - change.at) or 0
  if skip < change.count then
    redis.call('HSET', taskKey, 'outputLines', tostring(before + change.count - skip))
    -- ARGV[8] is line number (count - sent) of the write, 0-based.
    local from = 8 + math.max(0, skip - (change.count - (#ARGV - 7)))
    if from <= #ARGV then
      redis.call('RPUSH', KEYS[5], unpack(ARGV, from))
      redis.call('LTRIM', KEYS[5], -tonumber(ARGV[7]), -1)
    end
  end
end
if change.step then
  redis.call('HSETNX', KEYS[6], change.stepNo, change.step)
end
if terminal[now] then
  if change.status and change.set and change.set.endedAt then
    redis.call('ZADD', KEYS[7], change.set.endedAt, id)
  end
  redis.call('PEXPIRE', KEYS[6], ttl)
end
applied(nil, terminal[now])
return answer()
`;

/**
 * addSteer — queue a steering message.
 * KEYS: 1 task:<id>, 2 seen:<id>, 3 ops:<id>, 4 opq:<id>, 5 steers:<id>, 6 steers-queued:<id>,
 *       7 steer-seq.
 * ARGV: 1 writer, 2 seq, 3 ended ttl ms, 4 task id, 5 message, 6 now.
 * Returns the steer as JSON, or nil for an unknown task.
 */
export const addSteerScript = `${prelude}
local again = replayed()
if again == true then return redis.error_reply('replayed addSteer: its answer is no longer kept') end
if again then return again end
local status = statusOf(taskKey)
if not status then return false end
local id = redis.call('INCR', KEYS[7])
local steer = cjson.encode({id = id, taskId = ARGV[4], message = ARGV[5], state = 'queued', createdAt = tonumber(ARGV[6])})
redis.call('HSET', KEYS[5], id, steer)
redis.call('RPUSH', KEYS[6], id)
applied(steer, terminal[status])
return steer
`;

/**
 * settleSteers — mark every queued steer delivered (takeSteers) or missed (missSteers).
 * KEYS: 1 task:<id>, 2 seen:<id>, 3 ops:<id>, 4 opq:<id>, 5 steers:<id>, 6 steers-queued:<id>.
 * ARGV: 1 writer, 2 seq, 3 ended ttl ms, 4 new state, 5 now, 6 fence JSON {owner, epoch} ('' = none).
 * Returns a JSON array of the settled steers in order, the JSON array ["fenced", status, owner,
 * epoch] when the fence does not hold (nothing settled), or nil for an unknown task.
 */
export const settleSteersScript = `${prelude}
local again = replayed()
-- A replay with no kept answer settled nothing the first time.
if again == true then return '[]' end
if again then return again end
local status = statusOf(taskKey)
if not status then return false end
local fenced = fenceRefusal(ARGV[6] ~= '' and cjson.decode(ARGV[6]) or nil, status)
if fenced then
  local refusal = cjson.encode(fenced)
  applied(refusal, terminal[status])
  return refusal
end
local ids = redis.call('LRANGE', KEYS[6], 0, -1)
-- Nothing queued (the usual case, before every model call): nothing written.
if #ids == 0 then return '[]' end
redis.call('DEL', KEYS[6])
local settled = {}
for _, steerId in ipairs(ids) do
  local steer = cjson.decode(redis.call('HGET', KEYS[5], steerId))
  steer.state = ARGV[4]
  steer.settledAt = tonumber(ARGV[5])
  local encoded = cjson.encode(steer)
  redis.call('HSET', KEYS[5], steerId, encoded)
  settled[#settled + 1] = encoded
end
local result = '[' .. table.concat(settled, ',') .. ']'
applied(result, terminal[status])
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
 * heartbeat — renew the lease of every held (running or input_required) task of one owner.
 * KEYS: 1 status:running, 2 status:input_required. Reads and writes <prefix>:task:<id> of each.
 * ARGV: 1 prefix, 2 owner as JSON (compared as stored), 3 leaseExpiresAt as JSON.
 * Returns id, epoch (JSON, absent = '0'), id, epoch… of the tasks renewed. Applying it twice is
 * applying it once.
 */
export const heartbeatScript = `
local renewed = {}
for _, set in ipairs(KEYS) do
  for _, id in ipairs(redis.call('SMEMBERS', set)) do
    local key = ARGV[1] .. ':task:' .. id
    if redis.call('HGET', key, 'owner') == ARGV[2] then
      redis.call('HSET', key, 'leaseExpiresAt', ARGV[3])
      renewed[#renewed + 1] = id
      renewed[#renewed + 1] = redis.call('HGET', key, 'epoch') or '0'
    end
  end
end
return renewed
`;

/**
 * prune — delete up to a batch of ended tasks that ended before a time, with all they hold.
 * KEYS: 1 ended, 2 tasks, 3 ops, 4 opq (prune's own replay log, by op id). Deletes, per task,
 *       <prefix>:task|output|checkpoints|steers|steers-queued|seen|ops|opq:<id>, and its entries
 *       in session-tasks:<sessionId>, status:<status>, tasks and ended.
 * ARGV: 1 op id, 2 prefix, 3 endedBefore (exclusive), 4 batch size.
 * Returns {pruned, examined}: the caller repeats while a full batch was examined.
 */
export const pruneScript = `
local terminal = ${terminalTable}
local done = redis.call('HGET', KEYS[3], ARGV[1])
if done then return cjson.decode(done) end
local prefix = ARGV[2]
local pruned = 0
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
for _, id in ipairs(ids) do
  local key = prefix .. ':task:' .. id
  local fields = redis.call('HMGET', key, 'status', 'sessionId')
  if fields[1] and terminal[cjson.decode(fields[1])] then
    redis.call('DEL', key, prefix .. ':output:' .. id, prefix .. ':checkpoints:' .. id, prefix .. ':steers:' .. id,
      prefix .. ':steers-queued:' .. id, prefix .. ':seen:' .. id, prefix .. ':ops:' .. id, prefix .. ':opq:' .. id)
    redis.call('ZREM', prefix .. ':session-tasks:' .. cjson.decode(fields[2]), id)
    redis.call('SREM', prefix .. ':status:' .. cjson.decode(fields[1]), id)
    redis.call('ZREM', KEYS[2], id)
    pruned = pruned + 1
  end
  redis.call('ZREM', KEYS[1], id)
end
local result = {pruned, #ids}
redis.call('HSET', KEYS[3], ARGV[1], cjson.encode(result))
if redis.call('RPUSH', KEYS[4], ARGV[1]) > ${opLogLength} then redis.call('HDEL', KEYS[3], redis.call('LPOP', KEYS[4])) end
return result
`;

/**
 * saveSession — create or replace a session; createdAt is kept from the first save.
 * KEYS: 1 session:<id>, 2 sessions.
 * ARGV: 1 id, 2 updatedAt, 3 id JSON, 4 cwd JSON, 5 createdAt JSON, 6 updatedAt JSON, 7 messages JSON,
 *       8 format (of messages) JSON.
 * Idempotent as it stands: saving the same session twice is saving it once.
 */
export const saveSessionScript = `
redis.call('HSET', KEYS[1], 'id', ARGV[3], 'cwd', ARGV[4], 'updatedAt', ARGV[6], 'messages', ARGV[7], 'format', ARGV[8])
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

/**
 * migrate1to2 — layout 1 → 2: checkpoints become a hash keyed by step number (each step with the
 * `format` of its messages), sessions get a `format`. Steps keep their order (step = list
 * index) and TTL; their JSON text is not re-encoded (Lua's encoder would turn `[]` into `{}`).
 * KEYS: 1 schema, 2 tasks, 3 sessions. Reads and writes <prefix>:checkpoints:<id> of every task
 *       and <prefix>:session:<id> of every session.
 * ARGV: 1 prefix, 2 format of the stored conversations (1).
 * Returns the layout now stored. Safe to run twice: it does nothing unless the layout is 1.
 */
export const migrate1to2Script = `
if redis.call('GET', KEYS[1]) ~= '1' then return tonumber(redis.call('GET', KEYS[1])) end
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local key = ARGV[1] .. ':checkpoints:' .. id
  if redis.call('TYPE', key).ok == 'list' then
    local ttl = redis.call('PTTL', key)
    local steps = redis.call('LRANGE', key, 0, -1)
    redis.call('DEL', key)
    for index, step in ipairs(steps) do
      redis.call('HSET', key, tostring(index - 1), '{"format":' .. ARGV[2] .. ',' .. string.sub(step, 2))
    end
    if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
  end
end
for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  redis.call('HSETNX', ARGV[1] .. ':session:' .. id, 'format', ARGV[2])
end
redis.call('SET', KEYS[1], '2')
return 2
`;
