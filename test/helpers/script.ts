import type { RecordedRequest } from '../../src/testing/scripted-server.js';

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
