/**
 * The budget counters (issue 27), scripts of their own beside the task writes: a charge touches a
 * whole chain of task hashes, a write only one.
 *
 * chargeSpend — charge a task's own spend so far (absolute) to it and every ancestor, atomically:
 * what it adds over the task's `ownSpend` goes into the `spend` field of the task and of each
 * ancestor (the task whose id is its `sessionId`, up to 64 levels, stopping at a session or a
 * repeated id); `ownSpend` becomes the charge. A charge not above the last changes nothing, so a
 * replay needs no guard. Same arithmetic as `budget-charges.ts`.
 * KEYS: 1 task:<id>. Reads and writes <prefix>:task:<ancestor id> of each ancestor.
 * ARGV: 1 prefix, 2 the charge as JSON ({tokens, costUsd, unpriced?}), 3 the fence as JSON ('' = none).
 * Returns {'ok'}, {'not_found'} or {'fenced', status, owner, epoch}.
 */
export const chargeSpendScript = `
local taskKey = KEYS[1]
local rawStatus = redis.call('HGET', taskKey, 'status')
if not rawStatus then return {'not_found'} end
local status = cjson.decode(rawStatus)
if ARGV[3] ~= '' then
  local fence = cjson.decode(ARGV[3])
  local rawOwner = redis.call('HGET', taskKey, 'owner')
  local owner = rawOwner and cjson.decode(rawOwner) or ''
  local epoch = tonumber(redis.call('HGET', taskKey, 'epoch') or '0')
  if not ((status == 'running' or status == 'input_required') and owner == fence.owner and epoch == fence.epoch) then
    return {'fenced', status, owner, tostring(epoch)}
  end
end
local own = cjson.decode(ARGV[2])
local rawPrevious = redis.call('HGET', taskKey, 'ownSpend')
local previous = rawPrevious and cjson.decode(rawPrevious) or {tokens = 0, costUsd = 0}
local tokens = math.max(0, own.tokens - (previous.tokens or 0))
local cost = math.max(0, own.costUsd - (previous.costUsd or 0))
local unpriced = own.unpriced == true and previous.unpriced ~= true
if tokens == 0 and cost == 0 and not unpriced then return {'ok'} end
local latest = {tokens = math.max(own.tokens, previous.tokens or 0), costUsd = math.max(own.costUsd, previous.costUsd or 0)}
if own.unpriced == true or previous.unpriced == true then latest.unpriced = true end
redis.call('HSET', taskKey, 'ownSpend', cjson.encode(latest))
local seen, key, depth = {}, taskKey, 0
while depth < 64 do
  local rawId = redis.call('HGET', key, 'id')
  if not rawId then break end
  local id = cjson.decode(rawId)
  if seen[id] then break end
  seen[id] = true
  depth = depth + 1
  local rawSpend = redis.call('HGET', key, 'spend')
  local spend = rawSpend and cjson.decode(rawSpend) or {tokens = 0, costUsd = 0}
  local added = {tokens = (spend.tokens or 0) + tokens, costUsd = (spend.costUsd or 0) + cost}
  if spend.unpriced == true or unpriced or own.unpriced == true then added.unpriced = true end
  redis.call('HSET', key, 'spend', cjson.encode(added))
  local rawSession = redis.call('HGET', key, 'sessionId')
  if not rawSession then break end
  key = ARGV[1] .. ':task:' .. cjson.decode(rawSession)
end
return {'ok'}
`;

/**
 * raiseBudget — add a raise to a task's budget under a key (the approval it answers); the first
 * raise under a key stands, so a replay changes nothing.
 * KEYS: 1 task:<id>.
 * ARGV: 1 the key, 2 the raise as JSON ({tokens?, costUsd?, seconds?}).
 * Returns {'ok', field, value…} (the record as it is then) or {'not_found'}.
 */
export const raiseBudgetScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found'} end
local raw = redis.call('HGET', KEYS[1], 'budgetRaises')
local raises = raw and cjson.decode(raw) or {}
if raises[ARGV[1]] == nil then
  raises[ARGV[1]] = cjson.decode(ARGV[2])
  redis.call('HSET', KEYS[1], 'budgetRaises', cjson.encode(raises))
end
local reply = redis.call('HGETALL', KEYS[1])
table.insert(reply, 1, 'ok')
return reply
`;
