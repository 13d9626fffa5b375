import { contentText, halves, type ResolvedReply, type ScriptedUsage, textPieces } from './scripted-script.js';
import { sseData, type WireEncoder } from './wire-encoder.js';

/** The server side of OpenAI chat completions: chunk stream with tool_calls deltas by index, usage, `[DONE]`. */
export const openaiWire: WireEncoder = {
  wire: 'openai',
  toolIdPrefix: 'call_',

  requestText(body) {
    const parts: string[] = [];
    for (const message of Array.isArray(body?.messages) ? body.messages : []) {
      parts.push(contentText(message?.content));
      for (const call of message?.tool_calls ?? []) parts.push(`${call?.function?.name ?? ''} ${call?.function?.arguments ?? ''}`);
    }
    return parts.filter((part) => part.length > 0).join('\n');
  },

  streamFrames(reply, request) {
    const base = { id: `chatcmpl-scripted-${request.index}`, object: 'chat.completion.chunk', created: nowSeconds(), model: request.model ?? 'scripted-model' };
    const chunk = (delta: object, finishReason: string | null = null): string =>
      sseData({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] });
    const frames = [chunk({ role: 'assistant', content: '' })];
    for (const piece of textPieces(reply.reasoning)) frames.push(chunk(reasoningDelta(piece, reply.reasoningFormat)));
    if (reply.refusal) {
      for (const piece of textPieces(reply.refusal.explanation ?? '')) frames.push(chunk({ content: null, refusal: piece }));
    }
    for (const piece of textPieces(reply.text)) frames.push(chunk({ content: reply.contentParts ? [{ type: 'text', text: piece }] : piece }));
    reply.toolCalls.forEach((call, index) => {
      frames.push(chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }));
      for (const piece of halves(call.arguments)) frames.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    });
    if (reply.noFinish) return frames;
    frames.push(chunk({}, finishReason(reply)));
    if (request.body?.stream_options?.include_usage) frames.push(sseData({ ...base, choices: [], usage: usageOf(reply.usage) }));
    frames.push(sseData('[DONE]'));
    return frames;
  },

  malformedFrame() {
    return 'data: {"id": "chatcmpl-broken", "choices": [{"delta": {"content": \n\n';
  },

  errorFrame(type, message) {
    return sseData({ error: { message, type, param: null, code: null } });
  },

  keepAliveFrame() {
    return ': keep-alive\n\n';
  },

  body(reply, request) {
    const message: Record<string, unknown> = { role: 'assistant', content: reply.text || null, refusal: null };
    if (reply.toolCalls.length > 0) {
      message.tool_calls = reply.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }));
    }
    return {
      id: `chatcmpl-scripted-${request.index}`,
      object: 'chat.completion',
      created: nowSeconds(),
      model: request.model ?? 'scripted-model',
      choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(reply) }],
      usage: usageOf(reply.usage),
    };
  },

  errorBody(status, message) {
    return { error: { message, type: status === 429 ? 'rate_limit_exceeded' : 'scripted_error', param: null, code: String(status) } };
  },

  modelsBody(models) {
    return { object: 'list', data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'legate-scripted' })) };
  },
};

/** One reasoning piece in the field each provider streams it in (their documented stream examples). */
function reasoningDelta(piece: string, format: ResolvedReply['reasoningFormat']): object {
  switch (format) {
    case 'reasoning':
      return { content: null, reasoning: piece };
    case 'reasoning_details':
      // OpenRouter: the text in `reasoning` and again, structured, in `reasoning_details`.
      return { content: null, reasoning: piece, reasoning_details: [{ type: 'reasoning.text', text: piece, format: 'unknown', index: 0 }] };
    case 'mistral':
      return { content: [{ type: 'thinking', thinking: [{ type: 'text', text: piece }] }] };
    default:
      return { content: null, reasoning_content: piece };
  }
}

function finishReason(reply: ResolvedReply): string {
  if (reply.truncated) return 'length';
  return reply.toolCalls.length > 0 ? 'tool_calls' : 'stop';
}

/**
 * `prompt_tokens` includes the cached ones, reported again in `prompt_tokens_details`; reasoning
 * tokens are within `completion_tokens` (OpenAI, DeepSeek), or outside it with `reasoningOutside` (xAI).
 */
function usageOf(usage: ScriptedUsage): object {
  const prompt = usage.inputTokens + (usage.cacheReadTokens ?? 0) + (usage.cacheWriteTokens ?? 0);
  const reasoning = usage.reasoningTokens ?? 0;
  const completion = usage.reasoningOutside ? usage.outputTokens - reasoning : usage.outputTokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion + (usage.reasoningOutside ? reasoning : 0),
    prompt_tokens_details: { cached_tokens: usage.cacheReadTokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: reasoning },
  };
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
