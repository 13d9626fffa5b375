/**
 * answerApproval — store a human's answer to the pending approval request of an input_required
 * task; the first answer stands (a request already answered is left as it is, so a replay changes
 * nothing).
 * KEYS: 1 task:<id>.
 * ARGV: 1 request id, 2 the answer as JSON (`StoredApprovalAnswer`).
 * Returns {'ok', field, value…} (the record as it is then), {'not_found'}, {'status', status}
 * (not input_required) or {'other', request id} (it waits on another request). The stored approval
 * keeps its JSON text as the client wrote it: the answer is spliced in, not re-encoded.
 */
export const answerApprovalScript = `
local raw = redis.call('HGET', KEYS[1], 'status')
if not raw then return {'not_found'} end
local status = cjson.decode(raw)
local approvalRaw = redis.call('HGET', KEYS[1], 'approval')
if status ~= 'input_required' or not approvalRaw then return {'status', status} end
local approval = cjson.decode(approvalRaw)
if approval.id ~= ARGV[1] then return {'other', approval.id} end
if approval.answer == nil then
  redis.call('HSET', KEYS[1], 'approval', string.sub(approvalRaw, 1, -2) .. ',"answer":' .. ARGV[2] .. '}')
end
local reply = redis.call('HGETALL', KEYS[1])
table.insert(reply, 1, 'ok')
return reply
`;
