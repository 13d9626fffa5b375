import { prelude } from './prelude.js';

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
rehold(id, nil, nil, status, redis.call('HGET', taskKey, 'owner'))
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
 * When the task is (or becomes) ended, its checkpoints get the ended ttl; reopened (failed ->
 * interrupted), they and its replay log are kept again and it leaves the ended index.
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
local state = taskState()
if not state then return {'not_found'} end
local status = state.status
if condition.status then
  local allowed = false
  for _, expected in ipairs(condition.status) do
    if expected == status then allowed = true end
  end
  if not allowed then return refuse({'status', status}, status) end
end
local fenced = stateFenceRefusal(condition.fence, state)
if fenced then return refuse(fenced, status) end
local now = status
local ownerBefore = state.rawOwner
local ownerNow = ownerBefore
-- Every field set goes in one HSET (field, value, field, value…).
local fields = {}
if change.status then
  now = change.status
  table.insert(fields, 'status')
  table.insert(fields, cjson.encode(now))
  redis.call('SMOVE', KEYS[8 + statusIndex[status]], KEYS[8 + statusIndex[now]], id)
end
if change.set then
  for field, value in pairs(change.set) do
    table.insert(fields, field)
    table.insert(fields, value)
    if field == 'owner' then ownerNow = value end
  end
end
if change.unset then
  redis.call('HDEL', taskKey, unpack(change.unset))
  for _, field in ipairs(change.unset) do
    if field == 'owner' then ownerNow = nil end
  end
end
if change.count and change.count > 0 then
  local before = state.outputLines
  -- The first lines of the write that an earlier copy of it already added.
  local skip = change.at and math.max(0, before - change.at) or 0
  if skip < change.count then
    table.insert(fields, 'outputLines')
    table.insert(fields, tostring(before + change.count - skip))
    -- ARGV[8] is line number (count - sent) of the write, 0-based.
    local from = 8 + math.max(0, skip - (change.count - (#ARGV - 7)))
    if from <= #ARGV then
      local kept = tonumber(ARGV[7])
      if redis.call('RPUSH', KEYS[5], unpack(ARGV, from)) > kept then redis.call('LTRIM', KEYS[5], -kept, -1) end
    end
  end
end
if #fields > 0 then redis.call('HSET', taskKey, unpack(fields)) end
if change.epoch then redis.call('HINCRBY', taskKey, 'epoch', 1) end
if change.status or change.set or change.unset then rehold(id, status, ownerBefore, now, ownerNow) end
if change.step then
  redis.call('HSETNX', KEYS[6], change.stepNo, change.step)
end
if change.status and terminal[status] and not terminal[now] then
  -- Reopened (failed -> interrupted): its checkpoints and replay log stay again, it leaves the ended index.
  for _, key in ipairs({KEYS[6], seenKey, opsKey, opqKey}) do redis.call('PERSIST', key) end
  redis.call('ZREM', KEYS[7], id)
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
