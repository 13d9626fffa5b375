import type { RecordedRequest, ScriptedReply, ScriptedServer } from '../../src/testing/scripted-server.js';
import { until } from './cli.js';

/** Predicates and readers for scripted-server requests in delegation tests (OpenAI wire). */

export const childMarker = 'You are a focused subagent';

export function isChild(request: RecordedRequest): boolean {
  return request.text.includes(childMarker);
}

export function isParent(request: RecordedRequest): boolean {
  return !isChild(request);
}

export function childWith(...needles: string[]): (request: RecordedRequest) => boolean {
  return (request) => isChild(request) && needles.every((needle) => request.text.includes(needle));
}

interface WireMessage {
  role: string;
  content?: unknown;
  tool_call_id?: string;
}

/** The tool results of the request's last step (after the last assistant message), parsed as JSON when possible. */
export function lastToolResults(request: RecordedRequest): any[] {
  const messages = (request.body?.messages ?? []) as WireMessage[];
  let start = messages.length;
  while (start > 0 && messages[start - 1]!.role === 'tool') start--;
  return messages.slice(start).map((message) => {
    const text = typeof message.content === 'string' ? message.content : JSON.stringify(message.content);
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  });
}

/** Every task_id that appeared in the request's tool results, in order, without duplicates. */
export function taskIds(request: RecordedRequest): string[] {
  return [...new Set([...request.text.matchAll(/"task_id":"(t_[0-9a-f]+)"/g)].map((match) => match[1]!))];
}

/** Names of the tools offered in the request. */
export function toolNames(request: RecordedRequest): string[] {
  return ((request.body?.tools ?? []) as { function?: { name: string }; name?: string }[]).map((tool) => tool.function?.name ?? tool.name ?? '');
}

/**
 * A reply given only once a request matching `match` has reached `server` (the live
 * `server.requests`). For the parent's last reply in a `run --no-wait` test: the run then exits with
 * its child's model call in flight every time, instead of sometimes before the child's request was
 * sent (the worker's request would then take the step scripted for the run's child).
 */
export function afterRequest(
  server: ScriptedServer,
  match: (request: RecordedRequest) => boolean,
  reply: ScriptedReply,
  timeoutMs = 30_000,
): () => Promise<ScriptedReply> {
  return async () => {
    await until(() => server.requests.some(match), timeoutMs, 'the awaited request to reach the server');
    return reply;
  };
}
