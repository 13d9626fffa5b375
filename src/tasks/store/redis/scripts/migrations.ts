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

/**
 * migrate2to3 — layout 2 → 3: each owner's held tasks (running or input_required) get a
 * `held:<owner>` set, what a heartbeat renews (layout 2's heartbeat walked every running task).
 * KEYS: 1 schema, 2 status:running, 3 status:input_required. Writes <prefix>:held:<owner>.
 * ARGV: 1 prefix.
 * Returns the layout now stored. Safe to run twice: it does nothing unless the layout is 2.
 */
export const migrate2to3Script = `
if redis.call('GET', KEYS[1]) ~= '2' then return tonumber(redis.call('GET', KEYS[1])) end
for _, set in ipairs({KEYS[2], KEYS[3]}) do
  for _, id in ipairs(redis.call('SMEMBERS', set)) do
    local owner = redis.call('HGET', ARGV[1] .. ':task:' .. id, 'owner')
    if owner then redis.call('SADD', ARGV[1] .. ':held:' .. cjson.decode(owner), id) end
  end
end
redis.call('SET', KEYS[1], '3')
return 3
`;
