import { describe, expect, it } from 'vitest';
import { executeToolCall } from '../../src/tools/execute.js';
import { toToolSpec } from '../../src/tools/tool-spec.js';
import { prng } from '../reliability/junk.js';
import { builtinTools, sandboxedIO, tempDir } from './tool-harness.js';

const STRINGS = [
  // empty, blank and path-like
  '',
  ' ',
  'a',
  '.',
  '..',
  'x/y/z',
  // regex and glob metacharacters
  '(',
  '[',
  '*',
  '\\',
  // control characters, non-ASCII text, a lone surrogate, a combining mark
  '\u0000',
  '😀🎉',
  'مرحبا',
  '\ud800',
  'ñ\u0301',
  '\n\r\t',
  // quotes, replacement patterns, braces
  '"quoted"',
  '$&',
  '{{}}',
];
const KEYS = [
  'path',
  'content',
  'old_string',
  'new_string',
  'replace_all',
  'offset',
  'limit',
  'pattern',
  'glob',
  'max_results',
  'command',
  'cwd',
  'timeout_seconds',
  '__proto__',
  'constructor',
  '',
];
const RAW = [
  // truncated or malformed JSON
  '{',
  '}',
  '{"path":',
  '[1,',
  'undefined',
  'NaN',
  "{'path':'a'}",
  '{"a":1,}',
  'nul',
  // control and non-ASCII characters, trailing text, bad escapes, not an object
  '\u0000',
  '{"path":"a"} trailing',
  '😀',
  '"\\x"',
  '[',
  '0x10',
];

function junkValue(random: () => number, depth = 0): unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  switch (Math.floor(random() * (depth > 3 ? 6 : 9))) {
    case 0:
      return null;
    case 1:
      return random() < 0.5;
    case 2:
      return pick([0, -1, 1.5, 1e308, -1e-308, Number.MAX_SAFE_INTEGER + 2, 42]);
    case 3:
      return pick(STRINGS);
    case 4:
      return pick(STRINGS).repeat(1 + Math.floor(random() * 50_000));
    case 5:
      return String.fromCodePoint(...Array.from({ length: 1 + Math.floor(random() * 20) }, () => Math.floor(random() * 0x10ffff) & ~0x800));
    case 6:
      return Array.from({ length: Math.floor(random() * 4) }, () => junkValue(random, depth + 1));
    default:
      return junkObject(random, depth + 1);
  }
}

function junkObject(random: () => number, depth: number): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  const count = Math.floor(random() * 5);
  for (let i = 0; i < count; i += 1) {
    const key = KEYS[Math.floor(random() * KEYS.length)]!;
    Object.defineProperty(object, key, { value: junkValue(random, depth), enumerable: true, writable: true, configurable: true });
  }
  return object;
}

/** Arguments of the right shape for the tool (its fields, their JSON types) holding junk values. */
function wellTypedJunk(random: () => number, properties: Record<string, { type?: string }>): string {
  const args: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(properties)) {
    if (random() < 0.2) continue;
    const text = random() < 0.5 ? STRINGS[Math.floor(random() * STRINGS.length)]! : String(junkValue(random, 4));
    if (schema.type === 'string') args[key] = text;
    else if (schema.type === 'boolean') args[key] = random() < 0.5;
    else args[key] = Math.floor(random() * 5_000) - 10;
  }
  return JSON.stringify(args);
}

function junkArguments(random: () => number, properties: Record<string, { type?: string }>): string {
  if (random() < 0.4) return wellTypedJunk(random, properties);
  const roll = random();
  if (roll < 0.2) return RAW[Math.floor(random() * RAW.length)]!;
  if (roll < 0.25) return '['.repeat(1 + Math.floor(random() * 5_000));
  if (roll < 0.3) return JSON.stringify(junkValue(random)) ?? '';
  const text = JSON.stringify(junkObject(random, 0));
  return roll < 0.35 ? text.slice(0, Math.floor(random() * text.length)) : text;
}

describe('junk arguments', () => {
  it('never throw: every call yields a result, an error result for anything invalid', async () => {
    const dir = await tempDir();
    const io = sandboxedIO(dir);
    const random = prng(20_240_615);
    const signal = new AbortController().signal;
    let errors = 0;
    let calls = 0;
    for (const [name, tool] of builtinTools) {
      const properties = toToolSpec(tool).parameters['properties'] as Record<string, { type?: string }>;
      for (let i = 0; i < 250; i += 1) {
        const args = junkArguments(random, properties);
        const result = await executeToolCall(builtinTools, { id: `junk_${i}`, name, arguments: args }, { cwd: dir, signal, io });
        calls += 1;
        expect(typeof result.content, `${name} ${args.slice(0, 80)}`).toBe('string');
        expect(typeof result.isError).toBe('boolean');
        expect(result.content.length).toBeLessThan(21_000);
        if (result.isError) {
          errors += 1;
          expect(result.content).toMatch(/^(invalid_arguments|tool_failed): /);
        }
      }
    }
    expect(calls).toBe(250 * builtinTools.size);
    expect(errors).toBeGreaterThan(calls / 3);
    expect(errors).toBeLessThan(calls);
  });
});
