/**
 * The tool-call pairing rules real providers enforce on a request's history, with the status and
 * error text they answer when one is broken. The scripted server applies them before any step, so a
 * test whose history separates a tool result from its call (a broken compaction, a bad resume)
 * fails as it would against the real API.
 *
 * OpenAI chat completions (observed replies, 400 `invalid_request_error`):
 * - a `tool` message whose id no preceding assistant `tool_calls` holds: "Invalid parameter: messages
 *   with role 'tool' must be a response to a preceeding message with 'tool_calls'." (sic)
 * - an assistant `tool_calls` not followed by a `tool` message for each id: "An assistant message with
 *   'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following
 *   tool_call_ids did not have response messages: <ids>"
 * Anthropic Messages (400 `invalid_request_error`):
 * - "messages.<i>.content.<j>: unexpected `tool_use_id` found in `tool_result` blocks: <id>. Each
 *   `tool_result` block must have a corresponding `tool_use` block in the previous message."
 * - "messages.<i>: `tool_use` ids were found without `tool_result` blocks immediately after: <ids>.
 *   Each `tool_use` block must have a corresponding `tool_result` block in the next message."
 */

/** A broken rule: the HTTP status and the provider's error body. */
export interface PairingViolation {
  status: 400;
  body: unknown;
}

export function openaiPairingViolation(body: any): PairingViolation | undefined {
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  const fail = (message: string, index: number): PairingViolation => ({
    status: 400,
    body: { error: { message, type: 'invalid_request_error', param: `messages.[${index}].role`, code: null } },
  });
  let open: { index: number; ids: Set<string> } | undefined;
  for (const [index, message] of messages.entries()) {
    if (message?.role === 'tool') {
      if (!open?.ids.has(String(message.tool_call_id))) {
        return fail("Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.", index);
      }
      open.ids.delete(String(message.tool_call_id));
      continue;
    }
    if (open && open.ids.size > 0) return unanswered(open, fail);
    open = undefined;
    if (message?.role === 'assistant' && Array.isArray(message.tool_calls) && message.tool_calls.length > 0) {
      open = { index, ids: new Set(message.tool_calls.map((call: any) => String(call.id))) };
    }
  }
  if (open && open.ids.size > 0) return unanswered(open, fail);
  return undefined;
}

function unanswered(open: { index: number; ids: Set<string> }, fail: (message: string, index: number) => PairingViolation): PairingViolation {
  return fail(
    "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. " +
      `The following tool_call_ids did not have response messages: ${[...open.ids].join(', ')}`,
    open.index,
  );
}

export function anthropicPairingViolation(body: any): PairingViolation | undefined {
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  const fail = (message: string): PairingViolation => ({ status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message } } });
  const blocks = (message: any): any[] => (Array.isArray(message?.content) ? message.content : []);
  for (const [index, message] of messages.entries()) {
    const previous = index > 0 ? messages[index - 1] : undefined;
    const offered = new Set(
      previous?.role === 'assistant'
        ? blocks(previous)
            .filter((b) => b?.type === 'tool_use')
            .map((b) => String(b.id))
        : [],
    );
    if (message?.role === 'user') {
      for (const [j, block] of blocks(message).entries()) {
        if (block?.type === 'tool_result' && !offered.has(String(block.tool_use_id))) {
          return fail(
            `messages.${index}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${block.tool_use_id}. ` +
              'Each `tool_result` block must have a corresponding `tool_use` block in the previous message.',
          );
        }
      }
    }
    if (message?.role === 'assistant') {
      const uses = blocks(message)
        .filter((b) => b?.type === 'tool_use')
        .map((b) => String(b.id));
      if (uses.length === 0 || index === messages.length - 1) continue;
      const next = messages[index + 1];
      const answered = new Set(
        next?.role === 'user'
          ? blocks(next)
              .filter((b) => b?.type === 'tool_result')
              .map((b) => String(b.tool_use_id))
          : [],
      );
      const missing = uses.filter((id) => !answered.has(id));
      if (missing.length > 0) {
        return fail(
          `messages.${index}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. ` +
            'Each `tool_use` block must have a corresponding `tool_result` block in the next message.',
        );
      }
    }
  }
  return undefined;
}
