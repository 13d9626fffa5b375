import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RunResult } from '../../src/agent/events.js';
import { elapsedSeconds } from '../../src/delegation/views.js';
import { LegateError } from '../../src/errors.js';
import { type LeaseKeeper, StoreLeaseKeeper } from '../../src/tasks/lease-keeper.js';
import { machineKey, newOwnerId, ownerIsGone } from '../../src/tasks/owner.js';
import { MemoryTaskStore } from '../../src/tasks/store/memory-store.js';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import type { TaskStore } from '../../src/tasks/store/task-store.js';
import type { TaskRecord } from '../../src/tasks/task-record.js';
import { operator, type TaskRunner, TaskService } from '../../src/tasks/task-service.js';
import { runCli, scriptedConfig, tempHome } from '../helpers/cli.js';
import { taskFixture } from './store-conformance.js';
import { childSpec, removeDirs, tempDir } from './task-runtime-helpers.js';

const dirs: string[] = [];
afterEach(() => removeDirs(dirs));

/** A runner whose child runs until aborted. */
const hangingRunner: TaskRunner = {
  run: (_task, control) =>
    new Promise<RunResult>((resolve) =>
      control.signal.addEventListener('abort', () =>
        resolve({ status: 'cancelled', exitReason: 'cancelled', final: '', messages: [], usage: { inputTokens: 0, outputTokens: 0 }, apiCalls: 0 }),
      ),
    ),
};

/** A process that claims tasks and then freezes: it never renews, and its lease is over at once. */
function frozenProcess(store: TaskStore, name: string, maxResumes?: number): TaskService {
  const leases: LeaseKeeper = { owner: name, leaseMs: -1, hold() {}, release() {}, stop() {} };
  return new TaskService({ store, runner: hangingRunner, maxConcurrent: 10, leaseKeeper: leases, ...(maxResumes !== undefined ? { maxResumes } : {}) });
}

describe('resume limit (tasks.max_resumes)', () => {
  it('a task whose process keeps dying is resumed max_resumes times, then fails saying why', async () => {
    const store = new MemoryTaskStore();
    const task = await frozenProcess(store, 'dead-0').spawn(childSpec('KILLS-ITS-PROCESS', '/tmp'));
    for (let resume = 1; resume <= 3; resume++) {
      const next = frozenProcess(store, `dead-${resume}`);
      await expect(next.resume(operator, task.id)).resolves.toMatchObject({ status: 'running', epoch: resume + 1, takeovers: resume });
    }
    const last = frozenProcess(store, 'dead-4');
    await expect(last.resume(operator, task.id)).rejects.toMatchObject({ code: 'resume_limit', message: expect.stringContaining('tasks.max_resumes is 3') });
    expect(await store.get(task.id)).toMatchObject({ status: 'failed', exitReason: 'max_resumes', takeovers: 4 });
    // A worker does not pick it up again either.
    expect(await frozenProcess(store, 'worker').claimWaiting(10)).toEqual([]);
  });

  it('hand-backs do not count, and the limit is configurable', async () => {
    const store = new MemoryTaskStore();
    const task = await frozenProcess(store, 'dead-0', 0).spawn(childSpec('ONCE', '/tmp'));
    await expect(frozenProcess(store, 'next', 0).resume(operator, task.id)).rejects.toMatchObject({ code: 'resume_limit' });

    const handed = new TaskService({ store, runner: hangingRunner, maxConcurrent: 1, maxResumes: 0 });
    const other = await handed.spawn(childSpec('HANDED-BACK', '/tmp'));
    await handed.shutdown();
    expect(await store.get(other.id)).toMatchObject({ status: 'interrupted' });
    expect((await store.get(other.id))!.takeovers).toBeUndefined();
    const again = new TaskService({ store, runner: hangingRunner, maxConcurrent: 1, maxResumes: 0 });
    await expect(again.resume(operator, other.id)).resolves.toMatchObject({ status: 'running' });
    await again.shutdown();
  });
});

describe('elapsed time of an interrupted task', () => {
  it('stops growing while nobody runs it (handed back or owner gone), and counts again once it is resumed', async () => {
    for (const interrupt of ['hand-back', 'dead-owner'] as const) {
      const store = new MemoryTaskStore();
      const first = interrupt === 'hand-back' ? new TaskService({ store, runner: hangingRunner, maxConcurrent: 1 }) : frozenProcess(store, 'dead-0');
      const task = await first.spawn(childSpec('STOPS', '/tmp'));
      if (interrupt === 'hand-back') await first.shutdown();
      else await new TaskService({ store, runner: hangingRunner, maxConcurrent: 1 }).reap(true);
      const interrupted = await store.get(task.id);
      expect(interrupted).toMatchObject({ status: 'interrupted' });
      expect(interrupted!.endedAt).toBeTypeOf('number');
      const now = Date.now();
      expect(elapsedSeconds(interrupted!, now + 60_000)).toBe(elapsedSeconds(interrupted!, now));
      const resumer = new TaskService({ store, runner: hangingRunner, maxConcurrent: 1 });
      await resumer.resume(operator, task.id);
      const running = await store.get(task.id);
      expect(running).toMatchObject({ status: 'running' });
      expect(running!.endedAt).toBeUndefined();
      expect(elapsedSeconds(running!, Date.now() + 60_000)).toBeGreaterThan(59);
      await resumer.shutdown();
    }
  });
});

describe('StoreLeaseKeeper', () => {
  it('renews held leases, and gives up a task cancelled or claimed again under another epoch', async () => {
    const store = new MemoryTaskStore();
    await store.create(taskFixture({ id: 't_kept' }));
    await store.create(taskFixture({ id: 't_reclaimed' }));
    await store.create(taskFixture({ id: 't_cancelled' }));
    const fences = new Map<string, number>();
    for (const id of ['t_kept', 't_reclaimed', 't_cancelled']) fences.set(id, (await store.claim(id, 'queued', 'me', 1)).epoch!);
    // t_reclaimed: interrupted and claimed again by this same owner id (a new epoch); t_cancelled: cancelled elsewhere.
    await store.transition('t_reclaimed', 'running', 'interrupted', {}, { owner: 'me', epoch: 1 });
    await store.claim('t_reclaimed', 'interrupted', 'me', 1);
    await store.transition('t_cancelled', 'running', 'cancelled');
    const keeper = new StoreLeaseKeeper(store, 'me', 60_000, 10);
    const lost = new Map<string, string>();
    const allLost = new Promise<void>((resolve) => {
      for (const id of fences.keys()) {
        keeper.hold(id, { owner: 'me', epoch: fences.get(id)! }, 1, (reason) => {
          lost.set(id, reason.code);
          if (lost.size === 2) resolve();
        });
      }
    });
    await allLost;
    keeper.stop();
    expect(Object.fromEntries(lost)).toEqual({ t_reclaimed: 'lease_lost', t_cancelled: 'lease_lost' });
    expect((await store.get('t_kept'))!.leaseExpiresAt).toBeGreaterThan(Date.now());
  });
});

describe('StoreLeaseKeeper, a claim during a heartbeat', () => {
  it('does not give up a task held while a heartbeat was under way and missing from its reply', async () => {
    const store = new MemoryTaskStore();
    await store.create(taskFixture({ id: 't_before' }));
    await store.create(taskFixture({ id: 't_during' }));
    const before = (await store.claim('t_before', 'queued', 'me', 1)).epoch!;
    let beats = 0;
    let replyMade!: () => void;
    const firstReplyMade = new Promise<void>((resolve) => (replyMade = resolve));
    let letGo!: () => void;
    const released = new Promise<void>((resolve) => (letGo = resolve));
    let secondStarted!: () => void;
    const second = new Promise<void>((resolve) => (secondStarted = resolve));
    // The first beat's reply is made before t_during is claimed, and answered after it is held.
    const gated = {
      heartbeat: async (owner: string, until: number) => {
        beats++;
        if (beats === 2) secondStarted();
        const reply = await store.heartbeat(owner, until);
        if (beats === 1) {
          replyMade();
          await released;
        }
        return reply;
      },
    } as unknown as TaskStore;
    const keeper = new StoreLeaseKeeper(gated, 'me', 60_000, 10);
    const lost: string[] = [];
    keeper.hold('t_before', { owner: 'me', epoch: before }, 1, () => lost.push('t_before'));
    await firstReplyMade;
    const during = (await store.claim('t_during', 'queued', 'me', 1)).epoch!;
    keeper.hold('t_during', { owner: 'me', epoch: during }, 1, () => lost.push('t_during'));
    letGo();
    await second;
    keeper.stop();
    expect(lost).toEqual([]);
    expect((await store.get('t_before'))!.leaseExpiresAt).toBeGreaterThan(Date.now());
  });
});

describe('owner liveness', () => {
  it('owner ids name the machine (boot id and pid namespace), not just the hostname', () => {
    const [, pid, , key] = newOwnerId().split(':');
    expect(Number(pid)).toBe(process.pid);
    expect(key).toBe(machineKey());
    expect(key).toMatch(/^[0-9a-f]{12}$/);
  });

  it('a dead pid proves an owner gone only on this machine: another one with the same hostname keeps its lease', () => {
    const dead = Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }));
    const lease = Date.now() + 60_000;
    const [host, , nonce, here] = newOwnerId().split(':');
    expect(ownerIsGone(`${host}:${dead}:${nonce}:${here}`, lease)).toBe(true);
    expect(ownerIsGone(`${host}:${process.pid}:${nonce}:${here}`, lease)).toBe(false);
    // Same hostname, another machine or container: only its lease tells.
    expect(ownerIsGone(`${host}:${dead}:${nonce}:0123456789ab`, lease)).toBe(false);
    expect(ownerIsGone(`${host}:${dead}:${nonce}:0123456789ab`, Date.now() - 1)).toBe(true);
    // An owner id from an older legate (no machine part) is judged by its lease.
    expect(ownerIsGone(`${host}:${dead}:${nonce}`, lease)).toBe(false);
  });
});

describe('trail (what check_task reads)', () => {
  it('sends the record, output and steer reads at once (one round trip to a remote store) and returns the task with them', async () => {
    const store = new MemoryTaskStore();
    const service = new TaskService({ store, runner: hangingRunner, maxConcurrent: 1 });
    const task = await service.spawn(childSpec('READ-AT-ONCE', '/tmp', 's_reader000001'));
    await service.steer('s_reader000001', task.id, 'look at the tests first');
    // A store whose reads answer only once all three have been asked for: sequential reads would never finish.
    const asked: string[] = [];
    let answer!: () => void;
    const allAsked = new Promise<void>((resolve) => (answer = resolve));
    const gated = <T>(name: string, read: () => Promise<T>): Promise<T> => {
      asked.push(name);
      if (asked.length === 3) answer();
      return allAsked.then(read);
    };
    const slow = Object.create(store) as MemoryTaskStore;
    slow.get = (id) => gated('get', () => store.get(id));
    slow.readOutput = (id, last) => gated('readOutput', () => store.readOutput(id, last));
    slow.listSteers = (id) => gated('listSteers', () => store.listSteers(id));
    const reader = new TaskService({ store: slow, runner: hangingRunner, maxConcurrent: 1 });
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${asked.join(', ')} were asked for`)), 2_000));
    const trail = (await Promise.race([reader.trail('s_reader000001', task.id, 10), timeout])) as Awaited<ReturnType<TaskService['trail']>>;
    expect(asked.sort()).toEqual(['get', 'listSteers', 'readOutput']);
    expect(trail.task).toMatchObject({ id: task.id, status: 'running', goal: 'READ-AT-ONCE' });
    expect(trail.steers.map((steer) => steer.message)).toEqual(['look at the tests first']);
    // Another session's task: not found, and nothing it read is returned.
    await expect(reader.trail('s_intruder00001', task.id)).rejects.toMatchObject({ code: 'task_not_found' });
    await service.shutdown();
    await reader.shutdown();
  });
});

describe('caller checks', () => {
  it("trail, markReported and checkpoint apply the session scoping: another session's task does not exist", async () => {
    const store = new MemoryTaskStore();
    const service = new TaskService({ store, runner: hangingRunner, maxConcurrent: 1 });
    const mine = await service.spawn(childSpec('MINE', '/tmp', 's_owner0000001'));
    await service.cancel('s_owner0000001', mine.id);
    const notFound = { code: 'task_not_found', message: `no task "${mine.id}" in this session` };
    await expect(service.trail('s_intruder00001', mine.id)).rejects.toMatchObject(notFound);
    await expect(service.markReported('s_intruder00001', mine.id)).rejects.toMatchObject(notFound);
    await expect(service.checkpoint('s_intruder00001', mine.id)).rejects.toMatchObject(notFound);
    expect((await store.get(mine.id))!.reported).toBe(false);
    // The operator reads anything, and its reads never count as the parent's.
    await service.markReported(operator, mine.id);
    expect((await store.get(mine.id))!.reported).toBe(false);
    await service.markReported('s_owner0000001', mine.id);
    expect((await store.get(mine.id))!.reported).toBe(true);
    await service.shutdown();
  });
});

describe('who cancelled', () => {
  it('records the parent, the user or a timeout on the task', async () => {
    const store = new MemoryTaskStore();
    const service = new TaskService({ store, runner: hangingRunner, maxConcurrent: 5 });
    const byParent = await service.spawn(childSpec('A', '/tmp', 's_who000000001'));
    const byUser = await service.spawn(childSpec('B', '/tmp', 's_who000000001'));
    expect(await service.cancel('s_who000000001', byParent.id)).toMatchObject({ cancelledBy: 'parent', error: 'cancelled by the parent' });
    expect(await service.cancel(operator, byUser.id)).toMatchObject({ cancelledBy: 'user', error: 'cancelled by the user' });
    await service.shutdown();
    const runner: TaskRunner = {
      run: (_task, control) =>
        new Promise((resolve) =>
          control.signal.addEventListener('abort', () =>
            resolve({
              status: 'failed',
              exitReason: 'timeout',
              error: 'timeout',
              final: '',
              messages: [],
              usage: { inputTokens: 0, outputTokens: 0 },
              apiCalls: 0,
            }),
          ),
        ),
    };
    const timing = new TaskService({ store, runner, maxConcurrent: 1, childTimeoutSeconds: 0.05 });
    const slow = await timing.spawn(childSpec('C', '/tmp', 's_who000000001'));
    const { task: ended } = await timing.waitForEnd(operator, slow.id, 10_000);
    expect(ended).toMatchObject({ status: 'failed', exitReason: 'timeout', cancelledBy: 'timeout' });
    await timing.shutdown();
  });

  it('`legate tasks cancel` is recorded as the user, and `tasks show` says so', async () => {
    const { home, work, configFile } = tempHome(scriptedConfig('http://127.0.0.1:9/v1'));
    dirs.push(home, work);
    const store = SqliteTaskStore.open(join(home, 'state.db'));
    await store.create(taskFixture({ id: 't_cliwho1', status: 'queued', cwd: work }));
    await store.close();
    const cancelled = await runCli(['--config', configFile, 'tasks', 'cancel', 't_cliwho1'], { home, cwd: work });
    expect(cancelled.code, cancelled.stderr).toBe(0);
    const shown = await runCli(['--config', configFile, 'tasks', 'show', 't_cliwho1', '--json'], { home, cwd: work });
    expect(JSON.parse(shown.stdout)).toMatchObject({ status: 'cancelled', cancelled_by: 'user', error: 'cancelled by the user' });
    const text = await runCli(['--config', configFile, 'tasks', 'show', 't_cliwho1'], { home, cwd: work });
    expect(text.stdout).toContain('cancelled by: user');
  });
});

describe('damaged stored state (SQLite)', () => {
  const openWith = async (damage: (db: Database.Database) => void): Promise<{ store: SqliteTaskStore; file: string }> => {
    const file = join(tempDir('legate-damaged-', dirs), 'state.db');
    const store = SqliteTaskStore.open(file);
    await store.create(taskFixture({ id: 't_dmg', status: 'interrupted' }));
    await store.appendCheckpoint('t_dmg', { step: 0, iteration: 1, messages: [{ role: 'assistant', content: 'fine' }] });
    await store.appendCheckpoint('t_dmg', { step: 1, iteration: 1, messages: [{ role: 'user', content: 'fine' }] });
    await store.sessions.save({ id: 's_dmg', cwd: '/w', createdAt: 1, updatedAt: 1, messages: [{ role: 'user', content: 'hi' }] });
    const raw = new Database(file);
    damage(raw);
    raw.close();
    return { store, file };
  };

  it('a damaged checkpoint step is an error naming the task and step; resuming it fails the task instead of crashing the loop', async () => {
    const { store } = await openWith((db) => db.prepare('UPDATE task_checkpoints SET messages = \'[{"role":"assistant"}]\' WHERE step = 1').run());
    await expect(store.loadCheckpoint('t_dmg')).rejects.toMatchObject({
      code: 'store_corrupt',
      message: expect.stringContaining('task "t_dmg" checkpoint step 1 is not a valid conversation: 0.'),
    });
    const service = new TaskService({ store, runner: hangingRunner, maxConcurrent: 1 });
    await service.resume(operator, 't_dmg');
    const { task } = await service.waitForEnd(operator, 't_dmg', 10_000);
    expect(task).toMatchObject({ status: 'failed' });
    expect(task.error).toContain('store_corrupt: task "t_dmg" checkpoint step 1');
    await service.close();
  });

  it('a checkpoint that is not JSON, or from an unknown format, names the task', async () => {
    const { store } = await openWith((db) => db.prepare('UPDATE task_checkpoints SET messages = \'[{"role":\' WHERE step = 0').run());
    await expect(store.loadCheckpoint('t_dmg')).rejects.toMatchObject({
      code: 'store_corrupt',
      message: expect.stringContaining('task "t_dmg" checkpoint step 0 is not valid JSON'),
    });
    const raw = new Database(store.file);
    raw.prepare("UPDATE task_checkpoints SET messages = '[]', format = 9 WHERE step = 0").run();
    raw.close();
    await expect(store.loadCheckpoint('t_dmg')).rejects.toMatchObject({ code: 'store_corrupt', message: expect.stringContaining('stored in format 9') });
    await store.close();
  });

  it('a damaged session or task row is an error naming it', async () => {
    const { store } = await openWith((db) => {
      db.prepare('UPDATE sessions SET messages = \'{"not":"a list"}\'').run();
      db.prepare("UPDATE tasks SET usage = 'garbage'").run();
    });
    await expect(store.sessions.load('s_dmg')).rejects.toMatchObject({
      code: 'store_corrupt',
      message: expect.stringContaining('session "s_dmg" is not a valid conversation'),
    });
    await expect(store.get('t_dmg')).rejects.toMatchObject({ code: 'store_corrupt', message: expect.stringContaining('task "t_dmg" column usage is damaged') });
    await store.close();
    rmSync(store.file, { force: true });
  });
});

/** A store whose claims after the first `good` fail as a store does when it is locked or away (every other call works). */
class FailingClaimStore extends MemoryTaskStore {
  constructor(
    private readonly code: 'store_locked' | 'store_unavailable',
    private good = 0,
  ) {
    super();
  }
  override async claim(...args: Parameters<MemoryTaskStore['claim']>): Promise<TaskRecord> {
    if (this.good-- > 0) return super.claim(...args);
    throw new LegateError(this.code, `task store: claiming "${args[0]}" failed (${this.code})`, { taskId: args[0] });
  }
}

describe('a claim the store fails', () => {
  it.each(['store_locked', 'store_unavailable'] as const)('%s: the spawn is refused saying why, not left queued as if all were well', async (code) => {
    const service = new TaskService({ store: new FailingClaimStore(code), runner: hangingRunner, maxConcurrent: 1 });
    await expect(service.spawn(childSpec('NEVER-CLAIMED', '/tmp'))).rejects.toMatchObject({ code, message: expect.stringContaining('claiming') });
    expect(service.activeCount).toBe(0);
    await service.shutdown();
  });

  it('a task that waited for capacity and then fails its claim is announced to listeners, not silently dropped', async () => {
    const service = new TaskService({ store: new FailingClaimStore('store_locked', 1), runner: hangingRunner, maxConcurrent: 1 });
    const storeError = new Promise<{ taskId: string; error: string }>((resolve) =>
      service.subscribe((event) => {
        if (event.type === 'task.store_error') resolve(event);
      }),
    );
    const running = await service.spawn(childSpec('RUNS', '/tmp'));
    const waiting = await service.spawn(childSpec('WAITS', '/tmp'));
    expect([running.status, waiting.status]).toEqual(['running', 'queued']);
    await service.cancel(operator, running.id);
    await expect(storeError).resolves.toMatchObject({ taskId: waiting.id, error: expect.stringContaining('its claim failed: store_locked') });
    // The slot is free again: nothing holds capacity for the run that never was.
    await vi.waitFor(() => expect(service.activeCount).toBe(0));
    await service.shutdown();
  });
});
