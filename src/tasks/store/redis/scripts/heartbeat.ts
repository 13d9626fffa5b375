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
