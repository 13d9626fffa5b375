/**
 * heartbeat — renew the lease of every held (running or input_required) task of one owner: the
 * tasks in its `held:<owner>` set (kept by the write scripts), so a beat costs the owner's tasks,
 * not the deployment's. An id whose task no longer holds that owner (pruned, or a layout-2 leftover)
 * is dropped from the set.
 * KEYS: 1 held:<owner>. Reads and writes <prefix>:task:<id> of each member.
 * ARGV: 1 prefix, 2 owner as JSON (compared as stored), 3 leaseExpiresAt as JSON.
 * Returns id, epoch (JSON, absent = '0'), id, epoch… of the tasks renewed. Applying it twice is
 * applying it once.
 */
export const heartbeatScript = `
local renewed = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. ':task:' .. id
  local raw = redis.call('HGET', key, 'status')
  local status = raw and cjson.decode(raw)
  if (status == 'running' or status == 'input_required') and redis.call('HGET', key, 'owner') == ARGV[2] then
    redis.call('HSET', key, 'leaseExpiresAt', ARGV[3])
    renewed[#renewed + 1] = id
    renewed[#renewed + 1] = redis.call('HGET', key, 'epoch') or '0'
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return renewed
`;
