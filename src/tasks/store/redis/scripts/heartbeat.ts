/**
 * heartbeat — renew the lease of the held (running or input_required) tasks of one owner, one
 * slice of its `held:<owner>` set (kept by the write scripts) per call: a beat costs the owner's
 * tasks, not the deployment's, and no single call holds Redis for all of them (the store walks the
 * set with the cursor, so other clients' commands run between slices). An id whose task no longer
 * holds that owner (pruned, or a leftover) is dropped from the set.
 * KEYS: 1 held:<owner>. Reads and writes <prefix>:task:<id> of each member.
 * ARGV: 1 prefix, 2 owner as JSON (compared as stored), 3 leaseExpiresAt as JSON, 4 SSCAN cursor,
 *       5 SSCAN count.
 * Returns the next cursor ('0' when done), then id, epoch (JSON, absent = '0')… of the tasks
 * renewed (SSCAN may give an id twice; a task held throughout the walk is given at least once).
 * Applying it twice is applying it once.
 */
export const heartbeatScript = `
local scan = redis.call('SSCAN', KEYS[1], ARGV[4], 'COUNT', ARGV[5])
local renewed = {scan[1]}
for _, id in ipairs(scan[2]) do
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
