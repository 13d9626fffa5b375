import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { messageSchema } from '../../src/provider/message-schema.js';
import type { Message } from '../../src/provider/types.js';
import { MemoryTaskStore } from '../../src/tasks/store/memory-store.js';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import { parseStoredMessages, storedFormat } from '../../src/tasks/store/stored-shapes.js';
import { taskFixture } from './store-conformance.js';

/**
 * Issue 24: `Message` is defined once (its zod schema; the TS type is derived), so a field of a
 * message cannot vanish on resume: every field of every kind survives a checkpoint round trip.
 */
const every: Message[] = [
  { role: 'user', content: 'the brief' },
  {
    role: 'assistant',
    content: 'calling',
    toolCalls: [{ id: 'c1', name: 'read_file', arguments: '{"path":"a"}' }],
    reasoning: [
      { type: 'thinking', source: 'anthropic', text: 'first, look', signature: 'EqSig/+==', at: 0 },
      { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a', at: 1 },
      { type: 'thinking', source: 'reasoning_content', text: 'deepseek thoughts' },
      { type: 'reasoning_details', details: [{ type: 'reasoning.encrypted', data: 'gAAAA…', id: 'rs_1', format: 'openai-responses-v1', index: 0 }] },
    ],
  },
  { role: 'tool', toolCallId: 'c1', name: 'read_file', content: 'no such file', isError: true },
];

const dir = mkdtempSync(join(tmpdir(), 'legate-roundtrip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('one definition of Message', () => {
  it('the sample covers every field the schema defines (so a new field must be added here, and is then checked)', () => {
    for (const option of messageSchema.options) {
      const role = option.shape.role.value;
      const sample = every.find((message) => message.role === role)!;
      expect(Object.keys(sample).sort(), role).toEqual(Object.keys(option.shape).sort());
    }
  });

  it('parseStoredMessages keeps every field', () => {
    expect(parseStoredMessages(JSON.stringify(every), storedFormat, 'test')).toEqual(every);
  });

  it('writes format 2 (reasoning parts) and still reads a format-1 checkpoint; an unknown format is store_corrupt naming it', () => {
    expect(storedFormat).toBe(2);
    const formatOne = [
      { role: 'user', content: 'the brief' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'list_dir', arguments: '{}' }] },
      { role: 'tool', toolCallId: 'c1', name: 'list_dir', content: 'a' },
    ];
    expect(parseStoredMessages(JSON.stringify(formatOne), 1, 'task "t_old" checkpoint step 0')).toEqual(formatOne);
    expect(() => parseStoredMessages('[]', 3, 'task "t_new" checkpoint step 0')).toThrow(
      /task "t_new" checkpoint step 0 was stored in format 3; this legate reads formats 1 and 2/,
    );
  });

  for (const [name, open] of [
    ['memory', () => new MemoryTaskStore()],
    ['sqlite', () => SqliteTaskStore.open(join(dir, 'state.db'))],
  ] as const) {
    it(`${name}: a checkpoint round trip keeps every field of every message kind`, async () => {
      const store = open();
      await store.create(taskFixture({ id: 't_round', status: 'running' }));
      await store.appendCheckpoint('t_round', { step: 0, iteration: 1, messages: every });
      expect((await store.loadCheckpoint('t_round')).messages).toEqual(every);
      await store.close();
    });
  }
});
