import { isTerminal, taskStatuses } from '../../../status.js';

/**
 * The replay guard and fence check every task write script starts with.
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
 */

/** How many refusals and data-carrying answers a task keeps for replays. */
export const opLogLength = 64;

const statusSetIndex = `{${taskStatuses.map((status, index) => `['${status}']=${index}`).join(', ')}}`;
export const terminalTable = `{${taskStatuses
  .filter(isTerminal)
  .map((status) => `['${status}']=true`)
  .join(', ')}}`;

/**
 * Helpers every task write starts with. Its KEYS begin 1 task:<id>, 2 seen:<id>, 3 ops:<id>,
 * 4 opq:<id>; its ARGV 1 writer, 2 sequence number, 3 ended ttl ms.
 */
export const prelude = `
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
-- held:<owner> (a set) holds the ids of the tasks that owner holds (running or input_required),
-- so that a heartbeat touches only its own tasks. The prefix is the task key's first part (a
-- prefix has no ':').
local heldPrefix = string.match(taskKey, '^([^:]*):') .. ':held:'
local function holder(status, rawOwner)
  if (status == 'running' or status == 'input_required') and rawOwner then return cjson.decode(rawOwner) end
  return nil
end
-- Moves the task between held sets after a change from (status, rawOwner) before to now.
local function rehold(id, before, beforeOwner, now, nowOwner)
  local was, is = holder(before, beforeOwner), holder(now, nowOwner)
  if was == is then return end
  if was then redis.call('SREM', heldPrefix .. was, id) end
  if is then redis.call('SADD', heldPrefix .. is, id) end
end
-- The fields a write decides on, in one HMGET: nil for an unknown task, else {status, rawOwner
-- (JSON text, nil when none), epoch (number), outputLines (number)}.
local function taskState()
  local got = redis.call('HMGET', taskKey, 'status', 'owner', 'epoch', 'outputLines')
  if not got[1] then return nil end
  return {status = cjson.decode(got[1]), rawOwner = got[2] or nil, epoch = tonumber(got[3] or '0'), outputLines = tonumber(got[4] or '0')}
end
-- fenceRefusal on a taskState (no read of its own).
local function stateFenceRefusal(fence, state)
  if fence == nil then return nil end
  local owner = state.rawOwner and cjson.decode(state.rawOwner) or ''
  if (state.status == 'running' or state.status == 'input_required') and owner == fence.owner and state.epoch == fence.epoch then return nil end
  return {'fenced', state.status, owner, tostring(state.epoch)}
end
local function statusOf(task)
  local raw = redis.call('HGET', task, 'status')
  if not raw then return nil end
  return cjson.decode(raw)
end
`;
