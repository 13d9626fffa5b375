/**
 * Junk tool-call arguments for the fuzz suite: raw text a model could send, from well-typed junk
 * (the tool's fields with hostile values) to invalid JSON, deep nesting, prototype-pollution keys
 * and 1 MB strings. Deterministic for a seed (mulberry32), except for the live task ids it is fed.
 */

export type Random = () => number;

/** mulberry32: a small deterministic PRNG, so a failure reproduces from its seed. */
export function prng(seed: number): Random {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

export const STRINGS = [
  '',
  ' ',
  'a',
  '.',
  '..',
  '/',
  '../../../../etc/passwd',
  '/etc/shadow',
  'x/y/z',
  '(',
  '[',
  '*',
  '**/*',
  '\\',
  '\u0000',
  'a\u0000b',
  '😀🎉',
  'مرحبا',
  '\u202eevil',
  '\u200b',
  '\ufeff',
  '\ud800',
  '\udfff',
  'ñ\u0301',
  '\n\r\t',
  '"quoted"',
  "'single'",
  '$&',
  '{{}}',
  '${HOME}',
  '%s%n',
  '; rm -rf /',
  '`id`',
  '$(id)',
  'null',
  'undefined',
  'true',
  '0',
  '-1',
  'NaN',
  '__proto__',
  'constructor',
  'prototype',
  't_00000000',
  't_',
  's_',
  'completed',
  'running',
  'cheap',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
];

/** Files the fuzz suite creates in its sandbox (content: `STRINGS`, one per line), so plausible paths exist. */
export const SANDBOX_FILES = ['a', 'x/y/z', 'null', '😀🎉', '.', 'x', 'x/y'];

const NUMBERS = [0, -0, -1, 1, 1.5, -1e-308, 1e308, Number.MAX_SAFE_INTEGER + 2, -Number.MAX_SAFE_INTEGER, 2 ** 31, 42, 0.0001, 3];

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
  'goal',
  'context',
  'route',
  'tasks',
  'toolsets',
  'task_id',
  'message',
  'timeout',
  'status',
  '__proto__',
  'constructor',
  'prototype',
  '',
  ' ',
  '😀',
];

const RAW = [
  '{',
  '}',
  '{"goal":',
  '[1,',
  'undefined',
  'NaN',
  'Infinity',
  "{'goal':'a'}",
  '{"a":1,}',
  'nul',
  '\u0000',
  '{"goal":"a"} trailing',
  '😀',
  '"\\x"',
  '[',
  '0x10',
  '{"task_id":"t_1"',
  '{"goal":"a","goal":',
  '\ud800',
  '{"goal":"\\ud800"}',
  '{"goal":"\\u0000"}',
  '1e999',
  '-',
  '{"":""}',
];

/** A string from 1 KB to 1 MB, of one repeated piece (so it still compresses in the test output). */
export function hugeString(random: Random): string {
  const size = random() < 0.3 ? 1_048_576 : 1024 + Math.floor(random() * 100_000);
  const piece = pick(random, ['a', '😀', 'ü', '\u0000', 'x y\n', '\\"', '{', '\ud800']);
  return piece.repeat(Math.ceil(size / piece.length)).slice(0, size);
}

/** Up to 20 random code points from all of Unicode (surrogates included, one at a time). */
export function randomUnicode(random: Random): string {
  return Array.from({ length: 1 + Math.floor(random() * 20) }, () => {
    const point = Math.floor(random() * 0x110000);
    return point >= 0xd800 && point <= 0xdfff ? String.fromCharCode(point) : String.fromCodePoint(point);
  }).join('');
}

export interface JunkContext {
  random: Random;
  /**
   * Real task ids, oldest first, ending with this session's newest (another session's and unknown
   * ones too), so control tools reach real, running tasks. Plausible junk uses route "cheap".
   */
  taskIds: () => readonly string[];
}

export function junkValue(context: JunkContext, depth = 0): unknown {
  const { random } = context;
  switch (Math.floor(random() * (depth > 3 ? 7 : 10))) {
    case 0:
      return null;
    case 1:
      return random() < 0.5;
    case 2:
      return pick(random, NUMBERS);
    case 3:
      return pick(random, STRINGS);
    case 4:
      return random() < 0.1 ? hugeString(random) : pick(random, STRINGS).repeat(1 + Math.floor(random() * 200));
    case 5:
      return randomUnicode(random);
    case 6:
      return context.taskIds().length > 0 ? pick(random, context.taskIds()) : 't_deadbeef';
    case 7:
      return Array.from({ length: Math.floor(random() * 4) }, () => junkValue(context, depth + 1));
    default:
      return junkObject(context, depth + 1);
  }
}

export function junkObject(context: JunkContext, depth: number): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  const count = Math.floor(context.random() * 5);
  for (let i = 0; i < count; i += 1) {
    // defineProperty: `__proto__` becomes an own key, as JSON.parse would make it.
    Object.defineProperty(object, pick(context.random, KEYS), { value: junkValue(context, depth), enumerable: true, writable: true, configurable: true });
  }
  return object;
}

interface JsonSchema {
  type?: string | string[];
  required?: string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
}

/**
 * A value of the schema's JSON type holding junk. Loose: a wrong type one time in ten. Plausible:
 * always the right type, non-empty strings, live task ids, enum members, small numbers — junk a
 * schema lets through, so it reaches the tools' behaviour.
 */
function typedJunk(context: JunkContext, schema: JsonSchema, key: string, depth: number, plausible: boolean): unknown {
  const { random } = context;
  if (!plausible && random() < 0.1) return junkValue(context, depth);
  if (key === 'task_id' && (plausible || random() < 0.7)) {
    const ids = context.taskIds();
    // Plausible: mostly the newest ids, the tasks most likely still running.
    return ids.length === 0 ? 't_00000000' : plausible && random() < 0.8 ? pick(random, ids.slice(-5)) : pick(random, ids);
  }
  if (schema.enum && (plausible || random() < 0.6)) return pick(random, schema.enum);
  if (plausible && key === 'route') return 'cheap';
  if (plausible && (key === 'path' || key === 'cwd')) return pick(random, SANDBOX_FILES);
  if (plausible && key === 'old_string')
    return pick(
      random,
      STRINGS.filter((text) => text.trim() !== ''),
    );
  if (plausible && key === 'toolsets') return pick(random, [['file'], ['terminal'], ['file', 'terminal'], []]);
  const type = Array.isArray(schema.type) ? schema.type[0] : (schema.type ?? schema.anyOf?.[0]?.type);
  switch (type) {
    case 'string': {
      const roll = random();
      if (plausible && roll < 0.5) return `junk ${Math.floor(random() * 1e6)} ${randomUnicode(random)}`;
      if (roll < 0.4) return pick(random, STRINGS);
      if (roll < 0.6) return randomUnicode(random);
      if (roll < 0.65) return hugeString(random);
      return `junk ${Math.floor(random() * 1e6)} ${pick(random, STRINGS)}`;
    }
    case 'number':
    case 'integer':
      if (plausible) return Math.floor(random() * 3);
      return random() < 0.7 ? pick(random, NUMBERS) : Math.floor(random() * 50) - 5;
    case 'boolean':
      return random() < 0.5;
    case 'array':
      return depth > 2
        ? []
        : Array.from({ length: (plausible ? 1 : 0) + Math.floor(random() * 3) }, () => typedJunk(context, schema.items ?? {}, '', depth + 1, plausible));
    case 'object':
      return wellTyped(context, schema, depth + 1, plausible);
    default:
      return junkValue(context, depth + 1);
  }
}

function wellTyped(context: JunkContext, schema: JsonSchema, depth = 0, plausible = false): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  const required = new Set(schema.required ?? []);
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    if (plausible ? !required.has(key) && context.random() < 0.5 : context.random() < 0.25) continue;
    args[key] = typedJunk(context, property, key, depth, plausible);
  }
  return args;
}

/** `[[[…]]]` or `{"a":{"a":…}}`, `depth` levels deep: valid JSON that overflows a recursive stringify. */
export function deepJson(random: Random, depth: number): string {
  return random() < 0.5 ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** The shapes of junk, for counting how many of each the suite sent. */
export type JunkKind = 'plausible' | 'well_typed' | 'junk_object' | 'raw' | 'truncated' | 'deep' | 'pollution' | 'not_an_object' | 'empty' | 'huge';

/** Raw argument text for a call of a tool with `schema` (the JSON Schema the model sees). */
export function junkArguments(context: JunkContext, schema: JsonSchema): { kind: JunkKind; text: string } {
  const { random } = context;
  const roll = random();
  if (roll < 0.2) return { kind: 'plausible', text: JSON.stringify(wellTyped(context, schema, 0, true)) };
  if (roll < 0.4) return { kind: 'well_typed', text: JSON.stringify(wellTyped(context, schema)) };
  if (roll < 0.5) return { kind: 'junk_object', text: JSON.stringify(junkObject(context, 0)) };
  if (roll < 0.58) return { kind: 'raw', text: pick(random, RAW) };
  if (roll < 0.64) {
    const text = JSON.stringify(wellTyped(context, schema));
    return { kind: 'truncated', text: text.slice(0, Math.floor(random() * text.length)) };
  }
  if (roll < 0.68) {
    // A deep array as the arguments, or deep nesting in one of the tool's fields: invalid either way.
    const depth = 1000 + Math.floor(random() * 100_000);
    const key = pick(random, Object.keys(schema.properties ?? { x: {} }));
    return { kind: 'deep', text: random() < 0.3 ? deepJson(() => 0, depth) : `{${JSON.stringify(key)}:${deepJson(random, depth)}}` };
  }
  if (roll < 0.78) {
    const base = wellTyped(context, schema);
    const poison = pick(random, [
      '"__proto__":{"polluted":"yes","status":"completed"}',
      '"constructor":{"prototype":{"polluted":"yes"}}',
      '"__proto__":{"__proto__":{"polluted":"yes"}}',
      '"prototype":{"polluted":"yes"}',
      '"__proto__":null',
      '"__proto__":[1,2,3]',
    ]);
    const body = JSON.stringify(base).slice(1, -1);
    return { kind: 'pollution', text: `{${poison}${body ? `,${body}` : ''}}` };
  }
  if (roll < 0.86) return { kind: 'not_an_object', text: JSON.stringify(junkValue(context, 4)) ?? 'null' };
  if (roll < 0.9) return { kind: 'empty', text: pick(random, ['', ' ', '\n', '{}', '[]', 'null']) };
  const field = pick(random, Object.keys(schema.properties ?? { x: {} }));
  return { kind: 'huge', text: JSON.stringify({ ...wellTyped(context, schema), [field]: hugeString(random) }) };
}
