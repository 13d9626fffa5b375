/**
 * saveSession — create or replace a session; createdAt is kept from the first save.
 * KEYS: 1 session:<id>, 2 sessions.
 * ARGV: 1 id, 2 updatedAt, 3 id JSON, 4 cwd JSON, 5 createdAt JSON, 6 updatedAt JSON, 7 messages JSON,
 *       8 format (of messages) JSON, 9 the latest compaction JSON ('' = none).
 * Idempotent as it stands: saving the same session twice is saving it once.
 */
export const saveSessionScript = `
redis.call('HSET', KEYS[1], 'id', ARGV[3], 'cwd', ARGV[4], 'updatedAt', ARGV[6], 'messages', ARGV[7], 'format', ARGV[8])
if ARGV[9] == '' then redis.call('HDEL', KEYS[1], 'compaction') else redis.call('HSET', KEYS[1], 'compaction', ARGV[9]) end
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
