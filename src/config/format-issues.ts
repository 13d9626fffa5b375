import type { z } from 'zod';

/** One line per zod issue: `model.provider: expected one of "openai" | "anthropic", got "opnai"`. */
export function formatIssues(error: z.ZodError, input: unknown): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((key) => (path ? `${path}.${key}` : key));
      return `unknown key ${keys.map((key) => `"${key}"`).join(', ')}`;
    }
    const received = valueAt(input, issue.path);
    const got = received === undefined ? 'nothing' : show(received);
    return `${path || '(top level)'}: ${issue.message.replace(/^Invalid input: /, '')} (got ${got})`;
  });
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = input;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Array.isArray(value) ? '[…too deeply nested to show…]' : '{…too deeply nested to show…}';
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
