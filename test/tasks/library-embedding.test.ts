import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';

/**
 * An embedding program, written only against the public entry points (`legate`, `legate/sqlite`,
 * `legate/testing`, resolved through the package's `exports` to the built `dist/`): a runtime
 * built from a plain config object on a durable SQLite store spawns a background task in a
 * session turn and closes while the child runs; a second runtime on the same file continues the
 * session, resumes the task and collects its result.
 */
const { loadConfig, Runtime, Session, sessionCaller } = await import('legate');
const { SqliteTaskStore } = await import('legate/sqlite');
const { startScriptedServer } = await import('legate/testing');
type RecordedRequest = import('legate/testing').RecordedRequest;

const isChild = (request: RecordedRequest): boolean => request.text.includes('GOAL-EMBED') && request.text.includes('You are a focused subagent');
const isParent = (request: RecordedRequest): boolean => !request.text.includes('You are a focused subagent');
const taskIdIn = (request: RecordedRequest): string => /"task_id":"(t_[0-9a-f]+)"/.exec(request.text)?.[1] ?? 'none';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('an embedding program spawns a durable background task, closes, and collects it from a second runtime', async () => {
  const server = await startScriptedServer();
  cleanups.push(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), 'legate-embed-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({
    config: {
      model: { provider: 'openai', name: 'scripted-model', base_url: server.openaiBaseUrl, api_key: 'sk-embedding-test-key' },
      agent: { toolsets: ['async_delegation'] },
    },
    env: { LEGATE_HOME: dir },
  });
  const open = () => new Runtime({ loaded: config, cwd: dir, store: SqliteTaskStore.open(join(dir, 'state.db')) });

  server.enqueue(
    { label: 'parent: spawn', match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'GOAL-EMBED: count the widgets' } }] } },
    { label: 'parent: spawned', match: isParent, reply: { text: 'Started it.' } },
    // The child is still thinking when the first program closes: its task is handed back, not lost.
    { label: 'child: first try', match: isChild, reply: { delayMs: 60_000, text: 'never sent' } },
  );
  const first = open();
  const session = new Session(first);
  const spawned = await session.turn('count the widgets in the background');
  expect(spawned).toMatchObject({ status: 'completed', final: 'Started it.' });
  await server.waitForRequests(3);
  const [task] = await first.tasks.list(sessionCaller(session.id));
  expect(task).toMatchObject({ status: 'running', goal: 'GOAL-EMBED: count the widgets' });
  await first.close();

  server.enqueue(
    { label: 'child: resumed', match: isChild, reply: { text: 'SUMMARY-EMBED: 7 widgets' } },
    {
      label: 'parent: collect',
      match: isParent,
      reply: (request) => ({ toolCalls: [{ name: 'collect_task', arguments: { task_id: taskIdIn(request), timeout: 30 } }] }),
    },
    { label: 'parent: answer', match: isParent, reply: { text: 'There are 7 widgets.' } },
  );
  const second = open();
  cleanups.push(() => second.close());
  expect(await second.tasks.get(sessionCaller(session.id), task!.id)).toMatchObject({ status: 'interrupted' });
  const continued = await Session.resume(second, session.id);
  await second.tasks.resume(sessionCaller(session.id), task!.id);
  const answered = await continued.turn(`collect ${task!.id}`);
  expect(answered).toMatchObject({ status: 'completed', final: 'There are 7 widgets.' });
  expect(server.requests.at(-1)!.text).toContain('SUMMARY-EMBED: 7 widgets');
  expect(await second.tasks.get(sessionCaller(session.id), task!.id)).toMatchObject({
    status: 'completed',
    summary: 'SUMMARY-EMBED: 7 widgets',
    reported: true,
  });
  server.assertDone();
});
