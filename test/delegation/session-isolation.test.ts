import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { Runtime } from '../../src/runtime.js';
import { Session } from '../../src/session.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { childWith, isParent, lastToolResults } from '../helpers/script.js';
import { closedAfterEach } from '../helpers/teardown.js';

let server: ScriptedServer;
let runtime: Runtime | undefined;
const track = closedAfterEach();

describe('session isolation (library)', () => {
  it("a session cannot list, check, steer, collect or cancel another session's tasks", async () => {
    server = track(await startScriptedServer());
    server.enqueue(
      {
        match: (request) => isParent(request) && request.text.includes('SESSION-A'),
        reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'A-CHILD' } }] },
      },
      { match: (request) => isParent(request) && request.text.includes('SESSION-A'), reply: { text: 'a spawned' } },
      {
        match: (request) => isParent(request) && request.text.includes('SESSION-B') && !request.text.includes('"tasks"'),
        reply: (request) => {
          const id = /OTHER=(t_[0-9a-f]+)/.exec(request.text)![1]!;
          return {
            toolCalls: [
              { name: 'list_tasks', arguments: {} },
              { name: 'check_task', arguments: { task_id: id } },
              { name: 'steer_task', arguments: { task_id: id, message: 'hijack' } },
              { name: 'collect_task', arguments: { task_id: id, timeout: 1 } },
              { name: 'cancel_task', arguments: { task_id: id } },
            ],
          };
        },
      },
      { match: (request) => isParent(request) && request.text.includes('SESSION-B'), reply: { text: 'b done' } },
      { match: childWith('A-CHILD'), reply: { delayMs: 1500, text: 'a child done' } },
    );
    const config = configSchema.parse({ model: { provider: 'openai', name: 'm', base_url: server.openaiBaseUrl, api_key: 'sk-test-iso-0001' } });
    runtime = track(new Runtime({ loaded: { config, file: undefined, home: '/tmp', unset: new Map() }, cwd: process.cwd() }));
    const a = new Session(runtime);
    const b = new Session(runtime);

    await a.turn('SESSION-A start');
    const [taskA] = await runtime.tasks.list(a.id);
    expect(taskA).toBeDefined();
    await b.turn(`SESSION-B OTHER=${taskA!.id}`);

    const bRequest = server.requests.filter((request) => request.text.includes('SESSION-B'))[1]!;
    const [list, check, steer, collect, cancel] = lastToolResults(bRequest);
    expect(list).toEqual({ tasks: [] });
    for (const refused of [check, steer, collect, cancel]) {
      expect(refused).toBe(`task_not_found: no task "${taskA!.id}" in this session`);
    }
    // Session A's task was untouched: still running, no steer, and it completes.
    expect((await runtime.tasks.trail(a.id, taskA!.id)).steers).toEqual([]);
    const { task } = await runtime.tasks.waitForEnd(a.id, taskA!.id, 10_000);
    expect(task.status).toBe('completed');
  });
});
