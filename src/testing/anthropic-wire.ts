import { thinkingSignature } from './provider-rules.js';
import { contentText, halves, type ResolvedReply, type ScriptedUsage, textPieces } from './scripted-script.js';
import { sseEvent, type WireEncoder } from './wire-encoder.js';

/** The server side of Anthropic Messages: message_start … content blocks … message_delta, message_stop. */
export const anthropicWire: WireEncoder = {
  wire: 'anthropic',
  toolIdPrefix: 'toolu_',

  requestText(body) {
    const parts = [contentText(body?.system)];
    for (const message of Array.isArray(body?.messages) ? body.messages : []) parts.push(contentText(message?.content));
    return parts.filter((part) => part.length > 0).join('\n');
  },

  streamFrames(reply, request) {
    const message = { ...messageShell(request), content: [], stop_reason: null, usage: usageOf({ ...reply.usage, outputTokens: 1 }) };
    const frames = [sseEvent('message_start', { type: 'message_start', message })];
    let index = 0;
    if (reply.reasoning) {
      frames.push(sseEvent('content_block_start', { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } }));
      for (const piece of textPieces(reply.reasoning)) {
        frames.push(sseEvent('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: piece } }));
      }
      const signature = thinkingSignature(reply.reasoning);
      frames.push(sseEvent('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature } }));
      frames.push(sseEvent('content_block_stop', { type: 'content_block_stop', index }));
      index += 1;
    }
    if (reply.redactedThinking) {
      frames.push(
        sseEvent('content_block_start', { type: 'content_block_start', index, content_block: { type: 'redacted_thinking', data: reply.redactedThinking } }),
      );
      frames.push(sseEvent('content_block_stop', { type: 'content_block_stop', index }));
      index += 1;
    }
    if (reply.text) {
      frames.push(sseEvent('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }));
      for (const piece of textPieces(reply.text)) {
        frames.push(sseEvent('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } }));
      }
      frames.push(sseEvent('content_block_stop', { type: 'content_block_stop', index }));
      index += 1;
    }
    for (const call of reply.toolCalls) {
      const block = { type: 'tool_use', id: call.id, name: call.name, input: {} };
      frames.push(sseEvent('content_block_start', { type: 'content_block_start', index, content_block: block }));
      for (const piece of halves(call.arguments)) {
        frames.push(sseEvent('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } }));
      }
      frames.push(sseEvent('content_block_stop', { type: 'content_block_stop', index }));
      index += 1;
    }
    if (reply.noFinish) return frames;
    frames.push(
      sseEvent('message_delta', {
        type: 'message_delta',
        delta: {
          stop_reason: stopReason(reply),
          stop_sequence: null,
          stop_details: reply.refusal ? { type: 'refusal', category: reply.refusal.category ?? null, explanation: reply.refusal.explanation } : null,
        },
        usage: { output_tokens: reply.usage.outputTokens },
      }),
    );
    frames.push(sseEvent('message_stop', { type: 'message_stop' }));
    return frames;
  },

  malformedFrame() {
    return 'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {\n\n';
  },

  errorFrame(type, message) {
    return sseEvent('error', { type: 'error', error: { type, message } });
  },

  keepAliveFrame() {
    return sseEvent('ping', { type: 'ping' });
  },

  body(reply, request) {
    const content: object[] = [];
    if (reply.text) content.push({ type: 'text', text: reply.text, citations: null });
    for (const call of reply.toolCalls) content.push({ type: 'tool_use', id: call.id, name: call.name, input: parseOrRaw(call.arguments) });
    return {
      ...messageShell(request),
      content,
      stop_reason: stopReason(reply),
      usage: usageOf(reply.usage),
    };
  },

  errorBody(status, message) {
    const type =
      status === 429
        ? 'rate_limit_error'
        : status === 401
          ? 'authentication_error'
          : status === 529
            ? 'overloaded_error'
            : status >= 500
              ? 'api_error'
              : 'invalid_request_error';
    return { type: 'error', error: { type, message } };
  },

  modelsBody(models) {
    const data = models.map((id) => ({ id, type: 'model', display_name: id, created_at: '2025-01-01T00:00:00Z' }));
    return { data, has_more: false, first_id: models[0] ?? null, last_id: models.at(-1) ?? null };
  },
};

function messageShell(request: { index: number; model: string | undefined }): Record<string, unknown> {
  return { id: `msg_scripted_${request.index}`, type: 'message', role: 'assistant', model: request.model ?? 'scripted-model', stop_sequence: null };
}

function stopReason(reply: ResolvedReply): string {
  if (reply.refusal) return 'refusal';
  if (reply.pauseTurn) return 'pause_turn';
  if (reply.contextWindowExceeded) return 'model_context_window_exceeded';
  if (reply.truncated) return 'max_tokens';
  return reply.toolCalls.length > 0 ? 'tool_use' : 'end_turn';
}

function usageOf(usage: ScriptedUsage): object {
  return {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cache_creation_input_tokens: usage.cacheWriteTokens ?? 0,
    cache_read_input_tokens: usage.cacheReadTokens ?? 0,
  };
}

function parseOrRaw(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    // not JSON: recorded as the raw text
    return json;
  }
}
