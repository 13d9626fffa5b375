import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryTaskStore } from '../../src/tasks/store/memory-store.js';
import { connectRedis, maskRedisUrl } from '../../src/tasks/store/redis/redis-connection.js';
import { RedisTaskStore, type RedisTaskStoreOptions } from '../../src/tasks/store/redis/redis-store.js';
import { outputLineChars } from '../../src/tasks/store/task-store.js';
import { freePort, startTestRedis, useTestRedis } from '../helpers/redis.js';
import { storeConformance, taskFixture } from './store-conformance.js';

const redis = await useTestRedis();
let stores = 0;

// Each store gets its own prefix `<helper prefix>-<n>` (a prefix holds no ':'), outside the
// helper's `<prefix>:*`: delete them here, before the helper stops (after hooks run in reverse).
afterAll(async () => {
  if (!redis) return;
  const admin = redis.connect();
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${redis.prefix}-*`, 'COUNT', 1000);
    if (keys.length > 0) await admin.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
});

/** A fresh, empty store: its own prefix on the test Redis. */
function openStore(options: Partial<RedisTaskStoreOptions> = {}): Promise<RedisTaskStore> {
  return RedisTaskStore.open({ url: redis!.url, prefix: `${redis!.prefix}-${stores++}`, ...options });
}

/**
 * A store whose connection sends every script twice, the second after the first is answered:
 * what ioredis does when a reply is lost to a dropped connection and it resends the command.
 */
async function openReplayingStore(): Promise<{ store: RedisTaskStore; sent: unknown[][] }> {
  const connection = await connectRedis(redis!.url);
  const sent: unknown[][] = [];
  // Scripts go as FCALL (EVAL where Redis refuses functions): both are sent twice.
  for (const method of ['eval', 'fcall'] as const) {
    const once = connection[method].bind(connection) as (...args: unknown[]) => Promise<unknown>;
    connection[method] = ((...args: unknown[]) => {
      sent.push(args);
      return once(...args).then(() => once(...args));
    }) as never;
  }
  return { store: await RedisTaskStore.attach(connection, { url: redis!.url, prefix: `${redis!.prefix}-${stores++}` }), sent };
}

describe.skipIf(!redis)('Redis task store', () => {
  const admin = redis?.connect();
  storeConformance('redis', () => openStore());
  storeConformance('redis, every write applied twice', async () => (await openReplayingStore()).store);

  describe('RedisTaskStore', () => {
    it("sends a running task's output and checkpoint writes of one turn as one write; a refusal rejects each of them", async () => {
      const { store, sent } = await openReplayingStore();
      try {
        await store.create(taskFixture({ id: 't_batch', status: 'queued' }));
        await store.claim('t_batch', 'queued', 'o1', 100);
        const fence = { owner: 'o1', epoch: 1 };
        const before = sent.length;
        // A reply's usage and its checkpoint, then a tool's start, as the task's run issues them (not awaited one by one).
        await Promise.all([
          store.appendOutput('t_batch', { lines: ['reply'], progress: { apiCalls: 1 }, at: 0 }, fence),
          store.appendCheckpoint('t_batch', { step: 0, iteration: 1, messages: [{ role: 'assistant', content: 'step 1' }] }, fence),
          store.appendOutput('t_batch', { lines: ['→ list_dir'], progress: { currentTool: 'list_dir' }, at: 1 }, fence),
        ]);
        expect(sent.length - before).toBe(1);
        expect(await store.readOutput('t_batch')).toEqual(['reply', '→ list_dir']);
        expect(await store.get('t_batch')).toMatchObject({ outputLines: 2, apiCalls: 1, currentTool: 'list_dir' });
        expect((await store.loadCheckpoint('t_batch')).messages).toEqual([{ role: 'assistant', content: 'step 1' }]);

        // Under a fence that no longer holds, every call of the batch is refused and nothing is written.
        const stale = { owner: 'o1', epoch: 0 };
        const refused = await Promise.allSettled([
          store.appendOutput('t_batch', { lines: ['late'], at: 2 }, stale),
          store.appendCheckpoint('t_batch', { step: 1, iteration: 2, messages: [{ role: 'assistant', content: 'late' }] }, stale),
        ]);
        expect(refused.map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as { code?: string }).code : 'written'))).toEqual([
          'lease_lost',
          'lease_lost',
        ]);
        expect(await store.readOutput('t_batch')).toEqual(['reply', '→ list_dir']);
        expect((await store.loadCheckpoint('t_batch')).steps).toBe(1);
      } finally {
        await store.close();
      }
    });

    it('a write applied twice has the effect, and the answer, of one', async () => {
      const { store, sent } = await openReplayingStore();
      try {
        await store.create(taskFixture({ id: 't_twice', status: 'queued' }));
        const running = await store.claim('t_twice', 'queued', 'o1', 100);
        expect(running).toMatchObject({ status: 'running', epoch: 1 });
        const fence = { owner: 'o1', epoch: 1 };
        await store.appendOutput('t_twice', { lines: ['one'], progress: { apiCalls: 1 } }, fence);
        await store.appendCheckpoint('t_twice', { step: 0, iteration: 1, messages: [{ role: 'assistant', content: 'step 1' }] }, fence);
        const steer = await store.addSteer('t_twice', 'look left');
        const taken = await store.takeSteers('t_twice', fence);
        expect(taken).toEqual([{ ...steer, state: 'delivered', settledAt: taken[0]!.settledAt }]);

        // A late resend, after later writes: replay the first appendOutput exactly as it was sent.
        const appendOne = sent.find((args) => args.at(-1) === 'one')!;
        await store.appendOutput('t_twice', { lines: ['two'] }, fence);
        await (store as unknown as { redis: Redis }).redis.fcall(...(appendOne as Parameters<Redis['fcall']>));

        expect(await store.readOutput('t_twice')).toEqual(['one', 'two']);
        expect(await store.get('t_twice')).toMatchObject({ status: 'running', outputLines: 2, apiCalls: 1, epoch: 1 });
        expect(await store.loadCheckpoint('t_twice')).toEqual({ iterations: 1, steps: 1, messages: [{ role: 'assistant', content: 'step 1' }] });
        expect((await store.listSteers('t_twice')).map((entry) => [entry.id, entry.state])).toEqual([[steer.id, 'delivered']]);
      } finally {
        await store.close();
      }
    });

    it('a connection killed under a stream of writes loses, repeats and reorders none of them', async () => {
      const store = await openStore();
      const redis = (store as unknown as { redis: Redis }).redis;
      try {
        await store.create(taskFixture({ id: 't_kill', status: 'running' }));
        const id = await redis.client('ID');
        const writes: Promise<void>[] = [];
        for (let index = 0; index < 400; index++) {
          writes.push(store.appendOutput('t_kill', { lines: [`line ${index}`], progress: { apiCalls: index } }));
          if (index % 2 === 0)
            writes.push(store.appendCheckpoint('t_kill', { step: index / 2, iteration: index, messages: [{ role: 'assistant', content: `step ${index}` }] }));
          if (index === 150) void admin!.client('KILL', 'ID', String(id));
        }
        await Promise.all(writes);
        expect(await redis.client('ID')).not.toBe(id);
        const lines = Array.from({ length: 400 }, (_, index) => `line ${index}`);
        expect(await store.readOutput('t_kill')).toEqual(lines.slice(-200));
        expect(await store.get('t_kill')).toMatchObject({ outputLines: 400, apiCalls: 399 });
        const checkpoint = await store.loadCheckpoint('t_kill');
        expect(checkpoint.messages.map((message) => message.content)).toEqual(Array.from({ length: 200 }, (_, index) => `step ${index * 2}`));
      } finally {
        await store.close();
      }
    });

    it('keeps text that JSON escapes: a line cut inside an emoji, quotes, newlines, unicode', async () => {
      const store = await openStore();
      try {
        await store.create(taskFixture({ id: 't_text', status: 'running' }));
        const cut = `${'x'.repeat(outputLineChars - 1)}😀 and more`;
        const summary = 'said "done" ✓\n\\ \ud83d';
        await store.appendOutput('t_text', { lines: [cut, 'tab\there ünï ✓'], progress: { lastActivity: '→ "read" 😀' } });
        await store.addSteer('t_text', 'steer "with" quotes / slashes ✓ 😀');
        await store.appendCheckpoint('t_text', { step: 0, iteration: 1, messages: [{ role: 'assistant', content: summary }] });
        await store.transition('t_text', 'running', 'completed', { summary });
        const output = await store.readOutput('t_text');
        expect(output[0]).toHaveLength(outputLineChars);
        expect(output[1]).toBe('tab\there ünï ✓');
        expect(await store.get('t_text')).toMatchObject({ summary, lastActivity: '→ "read" 😀' });
        expect((await store.listSteers('t_text'))[0]!.message).toBe('steer "with" quotes / slashes ✓ 😀');
        expect((await store.loadCheckpoint('t_text')).messages).toEqual([{ role: 'assistant', content: summary }]);
      } finally {
        await store.close();
      }
    });

    it('keeps every checkpointed step, as the loop writes them (two per iteration, iteration numbering restarting on resume)', async () => {
      const store = await openStore();
      const memory = new MemoryTaskStore();
      const steps = [
        { step: 0, iteration: 1, messages: [{ role: 'assistant' as const, content: '', toolCalls: [{ id: 'c1', name: 'list_dir', arguments: '{}' }] }] },
        { step: 1, iteration: 1, messages: [{ role: 'tool' as const, toolCallId: 'c1', name: 'list_dir', content: 'a' }] },
        { step: 2, iteration: 1, messages: [{ role: 'assistant' as const, content: 'resumed, done' }] },
      ];
      try {
        for (const target of [store, memory]) {
          await target.create(taskFixture({ id: 't_steps', status: 'running' }));
          for (const step of steps) await target.appendCheckpoint('t_steps', step);
        }
        expect(await store.loadCheckpoint('t_steps')).toEqual(await memory.loadCheckpoint('t_steps'));
        expect((await store.loadCheckpoint('t_steps')).messages).toHaveLength(3);
      } finally {
        await store.close();
      }
    });

    it("expires a task's checkpoints when it ends, keeping its record, output and steers", async () => {
      const store = await openStore({ endedTtlMs: 300 });
      const { keys } = store;
      try {
        await store.create(taskFixture({ id: 't_exp', status: 'running' }));
        await store.create(taskFixture({ id: 't_int', status: 'running' }));
        for (const id of ['t_exp', 't_int']) {
          await store.appendOutput(id, { lines: ['out'] });
          await store.appendCheckpoint(id, { step: 0, iteration: 1, messages: [{ role: 'assistant', content: 'x' }] });
          await store.addSteer(id, 'steer');
        }
        expect(await admin!.pttl(keys.checkpoints('t_exp'))).toBe(-1);
        await store.transition('t_exp', 'running', 'completed', { endedAt: Date.now() });
        await store.transition('t_int', 'running', 'interrupted');
        const ttl = await admin!.pttl(keys.checkpoints('t_exp'));
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(300);
        await sleep(600);
        expect(await admin!.exists(keys.checkpoints('t_exp'))).toBe(0);
        expect(await store.loadCheckpoint('t_exp')).toEqual({ iterations: 0, steps: 0, messages: [] });
        expect(await store.get('t_exp')).toMatchObject({ status: 'completed', outputLines: 1 });
        expect(await store.readOutput('t_exp')).toEqual(['out']);
        expect(await store.listSteers('t_exp')).toHaveLength(1);
        for (const key of [keys.task('t_exp'), keys.output('t_exp'), keys.steers('t_exp')]) expect(await admin!.pttl(key)).toBe(-1);
        // An interrupted task will be resumed from its checkpoints: they stay.
        expect((await store.loadCheckpoint('t_int')).iterations).toBe(1);
        expect(await admin!.pttl(keys.checkpoints('t_int'))).toBe(-1);
      } finally {
        await store.close();
      }
    });

    it('lists in the same order as the memory store, whether it walks all tasks or a status', async () => {
      const store = await openStore();
      const memory = new MemoryTaskStore();
      try {
        const tasks = [
          taskFixture({ id: 't_b', createdAt: 5 }),
          taskFixture({ id: 't_B', createdAt: 5 }),
          taskFixture({ id: 't_a', createdAt: 5, status: 'interrupted' }),
          taskFixture({ id: 't_z', createdAt: 4, cwd: '/other' }),
          taskFixture({ id: 't_r', createdAt: 6, status: 'running' }),
        ];
        for (const task of tasks) {
          await store.create(task);
          await memory.create(task);
        }
        for (const filter of [
          {},
          { status: ['queued' as const, 'interrupted' as const] },
          { status: ['queued' as const, 'queued' as const] },
          { status: ['queued' as const], cwd: '/work' },
          { limit: 2 },
          { status: ['queued' as const, 'running' as const], limit: 2 },
        ]) {
          expect(
            (await store.list(filter)).map((task) => task.id),
            JSON.stringify(filter),
          ).toEqual((await memory.list(filter)).map((task) => task.id));
          expect(await store.count(filter), JSON.stringify(filter)).toBe(await memory.count(filter));
        }
      } finally {
        await store.close();
      }
    });

    it('a fenced write is refused with lease_lost naming who holds the task, and writes nothing', async () => {
      const store = await openStore();
      try {
        await store.create(taskFixture({ id: 't_fence', status: 'running', owner: 'w1', epoch: 2 }));
        await expect(store.appendOutput('t_fence', { lines: ['zombie'] }, { owner: 'w2', epoch: 2 })).rejects.toMatchObject({
          code: 'lease_lost',
          message: 'task "t_fence" is no longer run by w2 epoch 2 (it is running under w1 epoch 2); write refused',
        });
        await expect(store.appendOutput('t_fence', { lines: ['stale'] }, { owner: 'w1', epoch: 1 })).rejects.toMatchObject({ code: 'lease_lost' });
        await store.appendOutput('t_fence', { lines: ['mine'] }, { owner: 'w1', epoch: 2 });
        expect(await store.readOutput('t_fence')).toEqual(['mine']);
        expect(await store.get('t_fence')).toMatchObject({ outputLines: 1 });
      } finally {
        await store.close();
      }
    });

    it('a write applied twice with `at` adds only the lines not yet counted, also past the buffer', async () => {
      const store = await openStore();
      try {
        await store.create(taskFixture({ id: 't_at', status: 'running' }));
        const many = Array.from({ length: 250 }, (_, index) => `l${index}`);
        await store.appendOutput('t_at', { lines: many.slice(0, 10), at: 0 });
        // A resend of lines 5..254 written at 5: lines 5..9 are already there.
        await store.appendOutput('t_at', { lines: many.slice(5), at: 5 });
        await store.appendOutput('t_at', { lines: many.slice(5), at: 5 });
        expect(await store.get('t_at')).toMatchObject({ outputLines: 250 });
        expect(await store.readOutput('t_at')).toEqual(many.slice(-200));
      } finally {
        await store.close();
      }
    });

    it('rejects a damaged checkpoint step or session with store_corrupt naming it', async () => {
      const store = await openStore();
      const { keys } = store;
      try {
        await store.create(taskFixture({ id: 't_bad', status: 'running' }));
        await store.appendCheckpoint('t_bad', { step: 0, iteration: 1, messages: [{ role: 'assistant', content: 'fine' }] });
        await admin!.hset(keys.checkpoints('t_bad'), '1', JSON.stringify({ format: 1, iteration: 2, messages: [{ role: 'robot', content: 'x' }] }));
        await expect(store.loadCheckpoint('t_bad')).rejects.toMatchObject({
          code: 'store_corrupt',
          message: expect.stringContaining('task "t_bad" checkpoint step 1'),
        });
        await admin!.hset(keys.checkpoints('t_bad'), '1', JSON.stringify({ format: 9, iteration: 2, messages: [] }));
        await expect(store.loadCheckpoint('t_bad')).rejects.toMatchObject({ code: 'store_corrupt', message: expect.stringContaining('format 9') });
        await store.sessions.save({ id: 's_bad', cwd: '/w', createdAt: 1, updatedAt: 1, messages: [] });
        await admin!.hset(keys.session('s_bad'), 'messages', '[{"role":"user"}]');
        await expect(store.sessions.load('s_bad')).rejects.toMatchObject({ code: 'store_corrupt', message: expect.stringContaining('session "s_bad"') });
      } finally {
        await store.close();
      }
    });

    it('reads a layout 1 prefix (checkpoints as a list, sessions without a format) after migrating it', async () => {
      const prefix = `${redis!.prefix}-${stores++}`;
      const task = taskFixture({ id: 't_v1', status: 'interrupted', epoch: 1 });
      await admin!.set(`${prefix}:schema`, '1');
      await admin!.zadd(`${prefix}:tasks`, task.createdAt, task.id);
      await admin!.hset(`${prefix}:task:${task.id}`, ...Object.entries(task).flatMap(([field, value]) => [field, JSON.stringify(value)]));
      await admin!.rpush(
        `${prefix}:checkpoints:${task.id}`,
        JSON.stringify({ iteration: 1, messages: [{ role: 'assistant', content: '', toolCalls: [] }] }),
        JSON.stringify({ iteration: 2, messages: [{ role: 'assistant', content: 'two \ud83d' }] }),
      );
      await admin!.zadd(`${prefix}:sessions`, 1, 's_v1');
      await admin!.hset(
        `${prefix}:session:s_v1`,
        'id',
        '"s_v1"',
        'cwd',
        '"/w"',
        'createdAt',
        '1',
        'updatedAt',
        '1',
        'messages',
        '[{"role":"user","content":"hi"}]',
      );
      const store = await RedisTaskStore.open({ url: redis!.url, prefix });
      try {
        expect(await admin!.get(`${prefix}:schema`)).toBe('3');
        expect(await store.loadCheckpoint('t_v1')).toEqual({
          iterations: 2,
          steps: 2,
          messages: [
            { role: 'assistant', content: '', toolCalls: [] },
            { role: 'assistant', content: 'two \ud83d' },
          ],
        });
        expect(await store.sessions.load('s_v1')).toEqual({ id: 's_v1', cwd: '/w', createdAt: 1, updatedAt: 1, messages: [{ role: 'user', content: 'hi' }] });
        // New steps continue the numbering.
        const fence = { owner: 'B', epoch: (await store.claim('t_v1', 'interrupted', 'B', 100)).epoch! };
        await store.appendCheckpoint('t_v1', { step: 2, iteration: 3, messages: [{ role: 'assistant', content: 'three' }] }, fence);
        expect((await store.loadCheckpoint('t_v1')).steps).toBe(3);
      } finally {
        await store.close();
      }
    });

    it('keeps every key under its prefix, and two prefixes on one Redis apart', async () => {
      const one = await openStore();
      const two = await openStore();
      try {
        await one.create(taskFixture({ id: 't_same', goal: 'one' }));
        await two.create(taskFixture({ id: 't_same', goal: 'two' }));
        await one.addSteer('t_same', 's');
        await one.sessions.save({ id: 's_p', cwd: '/w', createdAt: 1, updatedAt: 1, messages: [] });
        expect((await one.get('t_same'))!.goal).toBe('one');
        expect((await two.get('t_same'))!.goal).toBe('two');
        expect(await two.listSteers('t_same')).toEqual([]);
        expect(await two.sessions.list()).toEqual([]);
        const keys = await admin!.keys(`${two.keys.prefix}*`);
        expect(keys.length).toBeGreaterThan(0);
        expect(keys.every((key) => key.startsWith(`${two.keys.prefix}:`))).toBe(true);
      } finally {
        await one.close();
        await two.close();
      }
    });

    it('names the Redis URL, password masked, when nothing listens there', async () => {
      const port = await freePort();
      const url = `redis://:s3cret-pw@127.0.0.1:${port}/0`;
      expect(maskRedisUrl(url)).toBe(`redis://:***@127.0.0.1:${port}/0`);
      const opened = RedisTaskStore.open({ url, prefix: `${redis!.prefix}-${stores++}` });
      await expect(opened).rejects.toMatchObject({ code: 'store_unavailable', message: expect.stringContaining(`redis://:***@127.0.0.1:${port}/0`) });
      await expect(opened).rejects.not.toMatchObject({ message: expect.stringContaining('s3cret') });
    });

    it('refuses a Redis that may evict keys', async () => {
      const own = await startTestRedis({ private: true });
      try {
        await own!.connect().config('SET', 'maxmemory', '64mb', 'maxmemory-policy', 'allkeys-lru');
        await expect(RedisTaskStore.open({ url: own!.url, prefix: own!.prefix })).rejects.toMatchObject({
          code: 'config_invalid',
          message: expect.stringContaining('maxmemory-policy allkeys-lru'),
        });
      } finally {
        await own!.stop();
      }
    });

    it('a command fails with store_unavailable once Redis is gone', async () => {
      const own = await startTestRedis({ private: true });
      const store = await RedisTaskStore.open({ url: own!.url, prefix: own!.prefix, maxRetriesPerRequest: 1 });
      try {
        await store.create(taskFixture({ id: 't_gone' }));
        await own!.server!.stop();
        await expect(store.get('t_gone')).rejects.toMatchObject({ code: 'store_unavailable', message: expect.stringContaining(own!.url) });
      } finally {
        await store.close();
        await own!.stop();
      }
    });
  });
});
