import { createHash } from 'node:crypto';
import type { PairingViolation } from './pairing-rules.js';

/**
 * The request rules real providers enforce on reasoning, parameters and caching, with the status and
 * error text each answers (their API references and observed replies). The scripted server applies
 * them to every request, so legate breaking one fails a test as it would fail against the real API.
 * Which OpenAI-compatible provider is emulated: `emulate` (the server option), else the model name.
 *
 * OpenAI (platform.openai.com/docs/guides/reasoning; observed 400 `invalid_request_error`):
 * - a reasoning model (o-series, gpt-5) given `max_tokens`: "Unsupported parameter: 'max_tokens' is
 *   not supported with this model. Use 'max_completion_tokens' instead." (`param: max_tokens`,
 *   `code: unsupported_parameter`);
 * - emulating OpenAI's own endpoint, a message field it does not know (`reasoning_content`…):
 *   "Additional properties are not allowed ('reasoning_content' was unexpected) - 'messages.2'".
 * DeepSeek thinking mode (api-docs.deepseek.com/guides/thinking_mode, "Tool calls"):
 * - an assistant turn of the current tool loop without `reasoning_content`: "Missing
 *   `reasoning_content` field in the assistant message at message index 2. For more information,
 *   please refer to https://api-docs.deepseek.com/guides/thinking_mode#tool-calls".
 * Anthropic (docs.claude.com/en/docs/build-with-claude/extended-thinking, prompt-caching; 400
 * `invalid_request_error`):
 * - with thinking enabled (a budget), the last assistant turn of the tool loop must start with a thinking block:
 *   "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`. …";
 * - a thinking block whose signature is not the one issued: "messages.1.content.0: Invalid
 *   `signature` in `thinking` block";
 * - thinking with a temperature other than 1; `max_tokens` not above `budget_tokens`; a budget under 1024;
 * - more than 4 `cache_control` blocks: "A maximum of 4 blocks with cache_control may be provided. Found 5.".
 */

export type EmulatedProvider = 'openai' | 'deepseek' | 'openrouter' | 'mistral' | 'xai' | 'anthropic';

/** The scripted server's signature of a thinking text: what Anthropic's real signatures are to the client, opaque bytes it must send back unchanged. */
export function thinkingSignature(text: string): string {
  return `EqScripted${createHash('sha256').update(`legate-scripted:${text}`).digest('base64')}`;
}

const openAIReasoningModel = /(^|\/)(o\d|gpt-5)([-.:]|$)/i;
const deepSeekReasoner = /deepseek[-_]?(reasoner|r1)|deepseek-v3\.[1-9]/i;
const openAIMessageFields: Record<string, Set<string>> = {
  system: new Set(['role', 'content', 'name']),
  developer: new Set(['role', 'content', 'name']),
  user: new Set(['role', 'content', 'name']),
  assistant: new Set(['role', 'content', 'name', 'tool_calls', 'refusal', 'audio', 'function_call']),
  tool: new Set(['role', 'content', 'tool_call_id']),
};

export function openaiRuleViolation(body: any, emulate: EmulatedProvider | undefined): PairingViolation | undefined {
  const model = String(body?.model ?? '');
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  const fail = (message: string, param: string | null, code: string | null): PairingViolation => ({
    status: 400,
    body: { error: { message, type: 'invalid_request_error', param, code } },
  });
  const provider = emulate ?? (deepSeekReasoner.test(model) ? 'deepseek' : openAIReasoningModel.test(model) ? 'openai' : undefined);
  if (provider === 'openai' && openAIReasoningModel.test(model) && body?.max_tokens !== undefined) {
    return fail(
      "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
      'max_tokens',
      'unsupported_parameter',
    );
  }
  if (emulate === 'openai') {
    for (const [index, message] of messages.entries()) {
      const known = openAIMessageFields[String(message?.role)];
      const unexpected = known ? Object.keys(message ?? {}).find((key) => !known.has(key)) : undefined;
      if (unexpected) return fail(`Additional properties are not allowed ('${unexpected}' was unexpected) - 'messages.${index}'`, null, null);
    }
  }
  if (provider === 'deepseek') {
    const lastUser = lastIndex(messages, (message) => message?.role === 'user');
    for (const [index, message] of messages.entries()) {
      if (index < lastUser || message?.role !== 'assistant' || !Array.isArray(message.tool_calls) || message.tool_calls.length === 0) continue;
      if (typeof message.reasoning_content !== 'string') {
        return {
          status: 400,
          body: {
            error: {
              message: `Missing \`reasoning_content\` field in the assistant message at message index ${index}. For more information, please refer to https://api-docs.deepseek.com/guides/thinking_mode#tool-calls`,
              type: 'invalid_request_error',
              param: null,
              code: 'invalid_request_error',
            },
          },
        };
      }
    }
  }
  return undefined;
}

export function anthropicRuleViolation(body: any, trustedSignatures: readonly string[] = []): PairingViolation | undefined {
  const fail = (message: string): PairingViolation => ({ status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message } } });
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  const blocks = (message: any): any[] => (Array.isArray(message?.content) ? message.content : []);
  const thinking = body?.thinking?.type === 'enabled' || body?.thinking?.type === 'adaptive';

  const breakpoints =
    countCacheControl(body?.tools) + countCacheControl(body?.system) + messages.reduce((sum, message) => sum + countCacheControl(message?.content), 0);
  if (breakpoints > 4) return fail(`A maximum of 4 blocks with cache_control may be provided. Found ${breakpoints}.`);
  for (const [index, message] of messages.entries()) {
    for (const [j, block] of blocks(message).entries()) {
      if (block?.type === 'text' && block.cache_control && !block.text)
        return fail(`messages.${index}.content.${j}.text: cache_control cannot be set for empty text blocks`);
      if (block?.type === 'thinking' && block.signature !== thinkingSignature(String(block.thinking ?? '')) && !trustedSignatures.includes(block.signature)) {
        return fail(`messages.${index}.content.${j}: Invalid \`signature\` in \`thinking\` block`);
      }
    }
  }
  if (!thinking) return undefined;
  if (body.thinking.type === 'enabled') {
    const budget = Number(body.thinking.budget_tokens);
    if (!(budget >= 1024)) return fail('thinking.enabled.budget_tokens: Input should be greater than or equal to 1024');
    if (!(Number(body.max_tokens) > budget)) {
      return fail(
        '`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size',
      );
    }
  }
  if (body.temperature !== undefined && body.temperature !== 1) {
    return fail(
      '`temperature` may only be set to 1 when thinking is enabled or in adaptive mode. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#important-considerations-when-using-extended-thinking',
    );
  }
  // The tool loop in progress: after the last user turn that is not only tool results. Only with a
  // budget (`enabled`): in adaptive mode the model may answer without thinking, so a turn without it is valid.
  if (body.thinking.type !== 'enabled') return undefined;
  const lastPrompt = lastIndex(messages, (message) => message?.role === 'user' && !blocks(message).every((block) => block?.type === 'tool_result'));
  const lastAssistant = lastIndex(messages, (message) => message?.role === 'assistant');
  if (lastAssistant > lastPrompt && blocks(messages[lastAssistant]).some((block) => block?.type === 'tool_use')) {
    const first = blocks(messages[lastAssistant])[0];
    if (first?.type !== 'thinking' && first?.type !== 'redacted_thinking') {
      return fail(
        `messages.${lastAssistant}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${first?.type ?? 'text'}\`. ` +
          'When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). ' +
          'We recommend you include thinking blocks from previous turns. To avoid this requirement, disable `thinking`. ' +
          'Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking',
      );
    }
  }
  return undefined;
}

function countCacheControl(value: unknown): number {
  if (!Array.isArray(value)) return 0;
  return value.filter((item) => item !== null && typeof item === 'object' && (item as { cache_control?: unknown }).cache_control).length;
}

function lastIndex(items: any[], test: (item: any) => boolean): number {
  for (let index = items.length - 1; index >= 0; index--) if (test(items[index])) return index;
  return -1;
}
