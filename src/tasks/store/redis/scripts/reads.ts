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
