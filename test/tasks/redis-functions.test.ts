import { afterAll, describe, expect, it } from 'vitest';
import { functionLibrary } from '../../src/tasks/store/redis/redis-functions.js';
import { RedisTaskStore } from '../../src/tasks/store/redis/redis-store.js';
import { useTestRedis } from '../helpers/redis.js';
import { taskFixture } from './store-conformance.js';

// A private server: the tests flush its functions, restart it and read its command counts.
const redis = await useTestRedis({ private: true });
let stores = 0;
const open: RedisTaskStore[] = [];

afterAll(async () => {
  for (const store of open) await store.close();
});

async function openStore(url = redis!.url, prefix = `${redis!.prefix}-${stores++}`): Promise<RedisTaskStore> {
  const store = await RedisTaskStore.open({ url, prefix, maxRetriesPerRequest: 50 });
  open.push(store);
  return store;
}

/** Calls per command name since the last CONFIG RESETSTAT (INFO commandstats). */
async function commandCalls(admin: ReturnType<NonNullable<typeof redis>['connect']>): Promise<Record<string, number>> {
  const info = await admin.info('commandstats');
  return Object.fromEntries([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((match) => [match[1]!, Number(match[2])]));
}

describe.skipIf(!redis)('Redis task store: functions and per-owner heartbeats', () => {
  const admin = redis?.connect();

  it('loads its function library at open and sends every script as FCALL, never the script text', async () => {
    const store = await openStore();
    const libraries = (await admin!.call('FUNCTION', 'LIST', 'LIBRARYNAME', functionLibrary)) as unknown[];
    expect(libraries).toHaveLength(1);
    await admin!.config('RESETSTAT');
    await store.create(taskFixture({ id: 't_f', status: 'queued' }));
    const fence = { owner: 'w1', epoch: (await store.claim('t_f', 'queued', 'w1', 100)).epoch! };
    await store.appendOutput('t_f', { lines: ['one'] }, fence);
    await store.heartbeat('w1', 200);
    await store.transition('t_f', 'running', 'completed', { summary: 'done', endedAt: 5 }, fence);
    const calls = await commandCalls(admin!);
    expect(calls.fcall).toBe(5);
    expect(calls.eval ?? 0).toBe(0);
    expect(calls.evalsha ?? 0).toBe(0);
  });

  it('a call that finds the functions gone (FUNCTION FLUSH) fails as not applied, is never applied later, and the next call works', async () => {
    const store = await openStore();
    await store.create(taskFixture({ id: 't_lost', status: 'running', owner: 'w1', epoch: 1 }));
    const fence = { owner: 'w1', epoch: 1 };
    await admin!.call('FUNCTION', 'FLUSH');
    const lost = store.appendOutput('t_lost', { lines: ['lost'], at: 0 }, fence);
    await expect(lost).rejects.toMatchObject({ code: 'store_unavailable', message: expect.stringContaining('this call was not applied') });
    // The store loaded the library again on its connection: the next call applies.
    await store.appendOutput('t_lost', { lines: ['kept'], at: 0 }, fence);
    expect(await store.readOutput('t_lost')).toEqual(['kept']);
    expect(await store.get('t_lost')).toMatchObject({ outputLines: 1 });
    expect((await admin!.call('FUNCTION', 'LIST', 'LIBRARYNAME', functionLibrary)) as unknown[]).toHaveLength(1);
  });

  it('after a restart without persistence the first call fails naming the lost functions, and the store carries on', async () => {
    const store = await openStore();
    await store.create(taskFixture({ id: 't_before', status: 'queued' }));
    await redis!.server!.restart();
    await expect(store.create(taskFixture({ id: 't_after', status: 'queued' }))).rejects.toMatchObject({
      code: 'store_unavailable',
      message: expect.stringContaining(functionLibrary),
    });
    await store.create(taskFixture({ id: 't_after', status: 'queued' }));
    // The deployment lost its tasks (issue 23): the first listing says so, once; then it lists what is left.
    await expect(store.list()).rejects.toMatchObject({ code: 'store_reset' });
    expect((await store.list()).map((task) => task.id)).toEqual(['t_after']);
  });

  it('uses EVAL on a Redis whose ACL refuses FUNCTION, with the same results', async () => {
    const password = 'pw-for-eval-only';
    await admin!.call('ACL', 'SETUSER', 'evalonly', 'on', `>${password}`, '~*', '&*', '+@all', '-function');
    const url = redis!.url.replace('redis://', `redis://evalonly:${password}@`);
    const store = await openStore(url);
    await admin!.config('RESETSTAT');
    await store.create(taskFixture({ id: 't_e', status: 'queued' }));
    await store.claim('t_e', 'queued', 'w1', 100);
    expect(await store.heartbeat('w1', 300)).toEqual([{ id: 't_e', owner: 'w1', epoch: 1 }]);
    const calls = await commandCalls(admin!);
    expect(calls.eval).toBe(3);
    expect(calls.fcall ?? 0).toBe(0);
  });

  it('keeps held:<owner> to the tasks that owner holds, through claims, takeovers, approvals and ends', async () => {
    const store = await openStore();
    const held = (owner: string) => admin!.smembers(store.keys.held(owner)).then((ids) => ids.sort());
    await store.create(taskFixture({ id: 't_1', status: 'queued' }));
    await store.create(taskFixture({ id: 't_2', status: 'queued' }));
    await store.create(taskFixture({ id: 't_3', status: 'running', owner: 'A', epoch: 1 }));
    const a1 = { owner: 'A', epoch: (await store.claim('t_1', 'queued', 'A', 100)).epoch! };
    await store.claim('t_2', 'queued', 'A', 100);
    expect(await held('A')).toEqual(['t_1', 't_2', 't_3']);
    const approval = { id: '1.1', kind: 'write', subject: '/x', mode: 'workspace-write', reason: 'outside', requestedAt: 1 } as const;
    await store.transition('t_1', 'running', 'input_required', { approval }, a1);
    expect(await held('A')).toEqual(['t_1', 't_2', 't_3']);
    await store.transition('t_2', 'running', 'interrupted');
    await store.claim('t_2', 'interrupted', 'B', 100);
    await store.transition('t_3', 'running', 'completed', { endedAt: 9 });
    expect(await held('A')).toEqual(['t_1']);
    expect(await held('B')).toEqual(['t_2']);
    expect(await store.heartbeat('A', 500)).toEqual([{ id: 't_1', owner: 'A', epoch: a1.epoch }]);
    expect(await store.heartbeat('B', 500)).toEqual([{ id: 't_2', owner: 'B', epoch: 2 }]);
  });

  it('a heartbeat does not read the tasks of other owners', async () => {
    const store = await openStore();
    for (let index = 0; index < 200; index++) await store.create(taskFixture({ id: `t_o${index}`, status: 'running', owner: `other${index % 4}` }));
    await store.create(taskFixture({ id: 't_mine', status: 'running', owner: 'me' }));
    // A task id left in the set by hand whose task is someone else's is dropped, not renewed.
    await admin!.sadd(store.keys.held('me'), 't_o1');
    await admin!.config('RESETSTAT');
    expect(await store.heartbeat('me', 700)).toEqual([{ id: 't_mine', owner: 'me', epoch: 0 }]);
    // Commands a script runs count in commandstats: two members read, not 201 tasks.
    expect((await commandCalls(admin!)).hget).toBeLessThanOrEqual(6);
    expect((await store.get('t_o1'))!.leaseExpiresAt).not.toBe(700);
    expect(await admin!.smembers(store.keys.held('me'))).toEqual(['t_mine']);
  });

  it('renews many held tasks in slices: every one, once, over several commands', async () => {
    const store = await openStore();
    for (let index = 0; index < 300; index++) await store.create(taskFixture({ id: `t_m${index}`, status: 'running', owner: 'many', epoch: 1 }));
    await admin!.config('RESETSTAT');
    const renewed = await store.heartbeat('many', 800);
    expect(renewed.map((task) => task.id).sort()).toEqual(Array.from({ length: 300 }, (_, index) => `t_m${index}`).sort());
    expect((await commandCalls(admin!)).fcall).toBeGreaterThan(2);
    expect((await store.list({ limit: 300 })).every((task) => task.leaseExpiresAt === 800)).toBe(true);
  });

  it('migrates a layout 2 prefix: each owner gets its held set, and heartbeats renew them', async () => {
    const prefix = `${redis!.prefix}-${stores++}`;
    await admin!.set(`${prefix}:schema`, '2');
    const tasks = [
      taskFixture({ id: 't_r', status: 'running', owner: 'A', epoch: 3, leaseExpiresAt: 1 }),
      taskFixture({ id: 't_i', status: 'input_required', owner: 'A', epoch: 1, leaseExpiresAt: 1 }),
      taskFixture({ id: 't_q', status: 'queued' }),
    ];
    for (const task of tasks) {
      await admin!.zadd(`${prefix}:tasks`, task.createdAt, task.id);
      await admin!.sadd(`${prefix}:status:${task.status}`, task.id);
      await admin!.hset(`${prefix}:task:${task.id}`, ...Object.entries(task).flatMap(([field, value]) => [field, JSON.stringify(value)]));
    }
    const store = await openStore(redis!.url, prefix);
    expect(await admin!.get(`${prefix}:schema`)).toBe('3');
    expect((await store.heartbeat('A', 900)).sort((x, y) => x.id.localeCompare(y.id))).toEqual([
      { id: 't_i', owner: 'A', epoch: 1 },
      { id: 't_r', owner: 'A', epoch: 3 },
    ]);
    expect((await store.get('t_r'))!.leaseExpiresAt).toBe(900);
  });
});
