import { prelude } from './prelude.js';

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
local state = taskState()
if not state then return false end
local status = state.status
local fenced = stateFenceRefusal(ARGV[6] ~= '' and cjson.decode(ARGV[6]) or nil, state)
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
