import { afterEach, describe, expect, it } from 'vitest';
import { operator } from '../../src/tasks/task-service.js';
import type { RecordedRequest } from '../../src/testing/scripted-script.js';
import { type ScriptedReply, type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { useTestRedis } from '../helpers/redis.js';
import { type SharedNode, sharedNode } from '../tasks/shared-nodes.js';
import { childSpec, removeDirs, tempDir, until } from '../tasks/task-runtime-helpers.js';

/**
 * Issue 27: a tree budget across two workers in shared mode. A task with a tokens budget runs on
 * one worker and spawns two children that the queue hands to two workers; each child's calls are
 * charged to the Redis counters of the whole tree atomically, so the tree stops at the budget
 * (each running task overshooting by at most its call in flight) and the counters are exact.
 */
const redis = await useTestRedis();

let server: ScriptedServer | undefined;
const nodes: SharedNode[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const node of nodes.splice(0)) await node.close().catch(() => {});
  await server?.close();
  server = undefined;
  await redis?.deleteKeys();
  removeDirs(dirs);
});

const usage = (tokens: number) => ({ inputTokens: tokens - 10, outputTokens: 10 });

describe.skipIf(!redis)('a tree budget in shared mode', () => {
  it('is spent from one set of counters by children on two workers: they stop at it, and the counters add up exactly', async () => {
    server = await startScriptedServer({
      handler: (request: RecordedRequest): ScriptedReply => {
        if (request.text.includes('TOP-GOAL')) {
          if (!request.text.includes('SIB-A:')) {
            return { toolCalls: [{ name: 'delegate_task', arguments: { tasks: [{ goal: 'SIB-A: look' }, { goal: 'SIB-B: look' }] } }], usage: usage(10) };
          }
          return { text: 'TOP-DONE', usage: usage(10) };
        }
        return { text: 'looking', toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }], usage: usage(100) };
      },
    });
    const work = tempDir('legate-budget-shared-', dirs);
    const options = { baseUrl: server.openaiBaseUrl, cwd: work, maxSpawnDepth: 2 };
    const parent = await sharedNode(redis!, options);
    nodes.push(parent, await sharedNode(redis!, { ...options, concurrency: 1 }), await sharedNode(redis!, { ...options, concurrency: 1 }));
    const top = await parent.runtime.tasks.spawn({ ...childSpec('TOP-GOAL', work), toolsets: ['delegation', 'file'], budget: { tokens: 450 } });
    const { task: ended, timedOut } = await parent.runtime.tasks.waitForEnd(operator, top.id, 30_000);
    expect(timedOut).toBe(false);
    await until(async () => (await parent.store.list({ sessionId: top.id })).every((task) => task.status === 'failed'), 'both children to end', 10_000);
    const children = await parent.store.list({ sessionId: top.id });
    expect(children).toHaveLength(2);
    // Run by the two workers, one each.
    expect(new Set(children.map((child) => child.owner)).size).toBe(2);
    for (const child of children) {
      expect(child).toMatchObject({ status: 'failed', exitReason: 'budget_exceeded' });
      expect(child.budget).toEqual({ tokens: 440 }); // capped at what was left of the parent's at spawn
      expect(child.error).toContain(`its ancestor "${top.id}"'s tree spent`);
    }
    // The counters are exact: the top's tree spend is its own usage and both children's.
    const tokens = (task: { usage: { inputTokens: number; outputTokens: number } }) => task.usage.inputTokens + task.usage.outputTokens;
    const final = (await parent.store.get(top.id))!;
    expect(final.spend!.tokens).toBe(tokens(final) + tokens(children[0]!) + tokens(children[1]!));
    for (const child of children) expect(child.spend!.tokens).toBe(tokens(child));
    // Stopped at the budget: at most one call in flight per running child past it.
    expect(final.spend!.tokens).toBeGreaterThanOrEqual(450);
    expect(final.spend!.tokens).toBeLessThanOrEqual(450 + 2 * 100);
    expect(ended).toMatchObject({ status: 'failed', exitReason: 'budget_exceeded' });
  }, 60_000);
});
