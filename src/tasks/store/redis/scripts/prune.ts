import { opLogLength, terminalTable } from './prelude.js';

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
