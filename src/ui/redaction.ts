import { redactSecrets } from '../secrets.js';

/**
 * Every value the dashboard sends, with each configured key masked in every string (keys and
 * values of objects alike), as tool output is: what a task wrote can quote a key.
 */
export function redactDeep<T>(value: T, keys: readonly string[]): T {
  if (keys.length === 0) return value;
  return walk(value, keys) as T;
}

function walk(value: unknown, keys: readonly string[]): unknown {
  if (typeof value === 'string') return redactSecrets(value, keys);
  if (Array.isArray(value)) return value.map((item) => walk(item, keys));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [name, item] of Object.entries(value)) out[redactSecrets(name, keys)] = walk(item, keys);
    return out;
  }
  return value;
}
