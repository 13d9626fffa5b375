import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { Runtime } from '../../src/runtime.js';
import { Session } from '../../src/session.js';
import { MemoryTaskStore } from '../../src/tasks/store/memory-store.js';
import { type RecordedRequest, type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { isChild } from '../helpers/script.js';
import { closedAfterEach } from '../helpers/teardown.js';

/**
 * Issue 11 §1: a parent and 50 children share one credential pool of two keys; every request on
 * key A is answered 429. Each call moves on to key B at once (one attempt per key: max_retries 0),
 * so the parent and all 50 children complete.
 */

const KEY_A = 'sk-test-pool-aaaa-1111';
const KEY_B = 'sk-test-pool-bbbb-2222';
const CHILDREN = 50;

let server: ScriptedServer | undefined;
let runtime: Runtime | undefined;
const track = closedAfterEach();

const hasToolResults = (request: RecordedRequest): boolean => /"task_id"/.test(request.text);

describe.each([
  ['openai', '0'],
  ['anthropic', '1'],
] as const)('%s wire, key A answers 429 with retry-after %s', (wire, retryAfter) => {
  it('the parent and 50 children sharing the pool all complete on key B', async () => {
    server = track(
      await startScriptedServer({
        handler: (request) => {
          if (request.apiKey === KEY_A) return { status: 429, headers: { 'retry-after': retryAfter } };
          if (isChild(request)) return { text: `done ${/POOL-CHILD-\d+/.exec(request.text)?.[0] ?? '?'}` };
          if (!hasToolResults(request)) {
            return { toolCalls: Array.from({ length: CHILDREN }, (_, index) => ({ name: 'delegate_task_async', arguments: { goal: `POOL-CHILD-${index}` } })) };
          }
          return { text: 'all spawned' };
        },
      }),
    );
    const cwd = mkdtempSync(join(tmpdir(), 'legate-pool-'));
    track({ close: () => rmSync(cwd, { recursive: true, force: true }) });
    const config = configSchema.parse({
      model: {
        provider: wire,
        name: 'pool-model',
        base_url: wire === 'openai' ? server.openaiBaseUrl : server.anthropicBaseUrl,
        api_keys: [KEY_A, KEY_B],
        max_retries: 0,
      },
      delegation: { max_concurrent_children: CHILDREN },
    });
    runtime = track(new Runtime({ loaded: { config, file: undefined, home: cwd, unset: new Map() }, cwd, store: new MemoryTaskStore() }));
    const session = new Session(runtime);

    const result = await session.turn('fan out');
    await runtime.tasks.waitForSession(session.id);

    expect(result).toMatchObject({ status: 'completed', final: 'all spawned' });
    const tasks = await runtime.tasks.list(session.id);
    expect(tasks).toHaveLength(CHILDREN);
    expect(tasks.filter((task) => task.status !== 'completed').map((task) => `${task.goal}: ${task.status} ${task.error ?? ''}`)).toEqual([]);
    expect(new Set(tasks.map((task) => task.summary))).toEqual(new Set(Array.from({ length: CHILDREN }, (_, index) => `done POOL-CHILD-${index}`)));
    // Every answer came on key B; no request ever went to A twice in a row for the same call.
    const answered = server.requests.filter((request) => request.apiKey === KEY_B);
    expect(answered.filter(isChild)).toHaveLength(CHILDREN);
    expect(server.requests.every((request) => request.apiKey === KEY_A || request.apiKey === KEY_B)).toBe(true);
  });
});
