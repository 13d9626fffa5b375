import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { latestSchemaVersion, sqliteMigrations } from '../../src/tasks/store/sqlite/sqlite-migrations.js';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import { WriteBatch } from '../../src/tasks/store/sqlite/sqlite-write-batch.js';
import { outputBufferLines } from '../../src/tasks/store/task-store.js';
import type { TaskRecord } from '../../src/tasks/task-record.js';
import { storeConformance, taskFixture } from './store-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'legate-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = (): string => join(dir, `store-${files++}.db`);
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/sqlite-store/${name}`, import.meta.url), 'utf8');

/** Opens the file with a plain connection, as another tool (or an older legate) would. */
function withRawDb<T>(file: string, use: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return use(db);
  } finally {
    db.close();
  }
}

storeConformance('sqlite', async () => SqliteTaskStore.open(freshFile()));

describe('SqliteTaskStore', () => {
  it('creates the file and its parent directories, in WAL mode at the latest schema version', async () => {
    const file = join(dir, 'nested', 'home', 'state.db');
    const store = SqliteTaskStore.open(file);
    await store.close();
    expect(existsSync(file)).toBe(true);
    withRawDb(file, (db) => {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(latestSchemaVersion);
    });
    // Reopening an up-to-date file migrates nothing and works.
    await SqliteTaskStore.open(file).close();
  });

  it('numbers its migrations 1, 2, … in order', () => {
    expect(sqliteMigrations.map((migration) => migration.version)).toEqual(sqliteMigrations.map((_, index) => index + 1));
    expect(latestSchemaVersion).toBe(sqliteMigrations.length);
  });

  it('works in memory', async () => {
    const store = SqliteTaskStore.open(':memory:');
    await store.create(taskFixture({ id: 't_mem' }));
    expect((await store.get('t_mem'))!.id).toBe('t_mem');
    await store.close();
  });

  it('keeps tasks, output, checkpoints and steers across close and reopen', async () => {
    const file = freshFile();
    const full = taskFixture({
      id: 't_all',
      status: 'running',
      context: 'c',
      toolsets: ['file', 'terminal'],
      route: 'cheap',
      startedAt: 11,
      endedAt: 12,
      exitReason: 'error',
      error: 'boom',
      summary: 'sum',
      apiCalls: 7,
      usage: { inputTokens: 5, outputTokens: 6 },
      currentTool: 'read_file',
      lastActivity: '→ read_file',
      reported: true,
      owner: 'pid:1',
      leaseExpiresAt: 99.5,
    });
    const first = SqliteTaskStore.open(file);
    await first.create(full);
    await first.create(taskFixture({ id: 't_other', sessionId: 's_2', createdAt: full.createdAt + 1 }));
    await first.appendOutput('t_all', { lines: Array.from({ length: outputBufferLines + 3 }, (_, index) => `out ${index}`) });
    await first.appendCheckpoint('t_all', { step: 0, iteration: 1, messages: [{ role: 'user', content: 'hi' }] });
    await first.appendCheckpoint('t_all', { step: 1, iteration: 2, messages: [{ role: 'assistant', content: 'done' }] });
    await first.addSteer('t_all', 'taken');
    await first.takeSteers('t_all');
    await first.addSteer('t_all', 'waiting');
    await first.close();

    const second = SqliteTaskStore.open(file);
    expect(await second.get('t_all')).toEqual({ ...full, outputLines: outputBufferLines + 3 });
    expect((await second.list()).map((task) => task.id)).toEqual(['t_other', 't_all']);
    const output = await second.readOutput('t_all');
    expect([output.length, output[0], output.at(-1)]).toEqual([outputBufferLines, 'out 3', `out ${outputBufferLines + 2}`]);
    expect(await second.loadCheckpoint('t_all')).toEqual({
      iterations: 2,
      steps: 2,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'done' },
      ],
    });
    expect((await second.listSteers('t_all')).map((steer) => [steer.message, steer.state])).toEqual([
      ['taken', 'delivered'],
      ['waiting', 'queued'],
    ]);
    expect((await second.takeSteers('t_all')).map((steer) => steer.message)).toEqual(['waiting']);
    await second.close();
  });

  it('keeps record fields that have no column of their own', async () => {
    const store = SqliteTaskStore.open(freshFile());
    const task = { ...taskFixture({ id: 't_extra' }), parentTaskId: 't_parent', labels: { a: 1 } } as TaskRecord;
    await store.create(task);
    expect(await store.get('t_extra')).toEqual(task);
    await store.close();
  });

  it('clears a field a transition patch sets to undefined, as the memory store does', async () => {
    const store = SqliteTaskStore.open(freshFile());
    await store.create(taskFixture({ id: 't_clear', status: 'running', owner: 'pid:1', leaseExpiresAt: 5 }));
    const interrupted = await store.transition('t_clear', 'running', 'interrupted', { owner: undefined, leaseExpiresAt: undefined });
    expect(interrupted.owner).toBeUndefined();
    expect(await store.get('t_clear')).not.toHaveProperty('owner');
    await store.close();
  });

  it("two connections on one file see each other's writes", async () => {
    const file = freshFile();
    const [a, b] = [SqliteTaskStore.open(file), SqliteTaskStore.open(file)];
    await a.create(taskFixture({ id: 't_shared', status: 'running' }));
    expect((await b.get('t_shared'))!.status).toBe('running');
    await b.appendOutput('t_shared', { lines: ['from b'] });
    await a.update('t_shared', { apiCalls: 2 });
    expect(await a.readOutput('t_shared')).toEqual(['from b']);
    expect(await b.get('t_shared')).toMatchObject({ apiCalls: 2, outputLines: 1 });
    await a.addSteer('t_shared', 'turn left');
    expect((await b.takeSteers('t_shared')).map((steer) => steer.message)).toEqual(['turn left']);
    expect(await a.takeSteers('t_shared')).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it('two connections racing on one transition: exactly one wins', async () => {
    const file = freshFile();
    const [a, b] = [SqliteTaskStore.open(file), SqliteTaskStore.open(file)];
    for (let round = 0; round < 20; round++) {
      const id = `t_race_${round}`;
      await a.create(taskFixture({ id, status: 'running' }));
      const [first, second] = round % 2 === 0 ? [a, b] : [b, a];
      const outcomes = await Promise.allSettled([first.transition(id, 'running', 'completed'), second.transition(id, 'running', 'cancelled')]);
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      expect(outcomes.find((outcome) => outcome.status === 'rejected')).toMatchObject({ reason: { code: 'illegal_transition' } });
      expect((await a.get(id))!.status).toBe((await b.get(id))!.status);
    }
    // A stale view does not help: b saw it running, a finished it, b's move is refused.
    await a.create(taskFixture({ id: 't_stale', status: 'running' }));
    expect((await b.get('t_stale'))!.status).toBe('running');
    await a.transition('t_stale', 'running', 'cancelled');
    await expect(b.transition('t_stale', 'running', 'completed')).rejects.toThrow('task "t_stale" is cancelled, not running');
    await Promise.all([a.close(), b.close()]);
  });

  it('waits for another process holding the write lock, then sees what it wrote', async () => {
    const file = freshFile();
    const store = SqliteTaskStore.open(file);
    await store.create(taskFixture({ id: 't_locked', status: 'running' }));
    // Another "process": a worker thread with its own connection cancels the task inside a
    // transaction and holds the write lock for a while before committing.
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const Database = require(workerData.driver);
       const db = new Database(workerData.file);
       db.exec('BEGIN IMMEDIATE');
       db.prepare("UPDATE tasks SET status = 'cancelled' WHERE id = ?").run(workerData.id);
       parentPort.postMessage('locked');
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
       db.exec('COMMIT');
       db.close();`,
      { eval: true, workerData: { file, id: 't_locked', driver: createRequire(import.meta.url).resolve('better-sqlite3') } },
    );
    await once(worker, 'message');
    // Blocks in the busy handler until the worker commits, then finds the task cancelled.
    await expect(store.transition('t_locked', 'running', 'completed')).rejects.toMatchObject({ code: 'illegal_transition' });
    expect((await store.get('t_locked'))!.status).toBe('cancelled');
    await once(worker, 'exit');
    await store.close();
  });

  describe("group commit of running tasks' writes", () => {
    const rawOutput = (file: string, id: string): string[] =>
      withRawDb(file, (db) => db.prepare('SELECT line FROM task_output WHERE task_id = ? ORDER BY seq').pluck().all(id) as string[]);
    const rawCheckpoints = (file: string, id: string): number =>
      withRawDb(file, (db) => db.prepare('SELECT count(*) FROM task_checkpoints WHERE task_id = ?').pluck().get(id) as number);

    it('commits the writes of one turn, from every task, together on the next turn; its own reads see them at once', async () => {
      const file = freshFile();
      const store = SqliteTaskStore.open(file);
      for (const id of ['t_a', 't_b']) await store.create(taskFixture({ id, status: 'running' }));
      const writes = [
        store.appendOutput('t_a', { lines: ['a1', 'a2'], progress: { currentTool: 'list_dir' } }),
        store.appendCheckpoint('t_b', { step: 0, iteration: 1, messages: [{ role: 'assistant', content: 'b' }] }),
        store.appendOutput('t_b', { lines: ['b1'] }),
        store.update('t_a', { apiCalls: 3 }),
        store.appendOutput('t_a', { lines: ['a3'], progress: { currentTool: '' } }),
      ];
      // Not in the file yet: another connection sees none of it.
      expect(rawOutput(file, 't_a')).toEqual([]);
      expect(rawCheckpoints(file, 't_b')).toBe(0);
      await Promise.all(writes);
      expect(rawOutput(file, 't_a')).toEqual(['a1', 'a2', 'a3']);
      expect(rawOutput(file, 't_b')).toEqual(['b1']);
      expect(rawCheckpoints(file, 't_b')).toBe(1);
      // Later fields win, as separate updates would have done.
      expect(await store.get('t_a')).toMatchObject({ apiCalls: 3, currentTool: '', outputLines: 3 });

      // The store's own reads never wait for the next turn.
      void store.appendOutput('t_a', { lines: ['a4'], progress: { lastActivity: 'now' } });
      void store.appendCheckpoint('t_a', { step: 1, iteration: 2, messages: [{ role: 'user', content: 'x' }] });
      expect(await store.readOutput('t_a', 1)).toEqual(['a4']);
      expect(await store.get('t_a')).toMatchObject({ lastActivity: 'now', outputLines: 4 });
      expect((await store.loadCheckpoint('t_a')).iterations).toBe(2);
      await store.close();
    });

    it('a transition made after unawaited writes lands after them, and close commits what is pending', async () => {
      const file = freshFile();
      const store = SqliteTaskStore.open(file);
      await store.create(taskFixture({ id: 't_end', status: 'running' }));
      void store.appendOutput('t_end', { lines: ['last words'] });
      const ended = await store.transition('t_end', 'running', 'completed', { summary: 'done' });
      expect(ended.outputLines).toBe(1);
      void store.appendOutput('t_end', { lines: ['after the end'] });
      await store.close();
      expect(rawOutput(file, 't_end')).toEqual(['last words', 'after the end']);
    });

    it('refuses an unknown task in a batch with task_not_found and commits the rest', async () => {
      const file = freshFile();
      const store = SqliteTaskStore.open(file);
      await store.create(taskFixture({ id: 't_known', status: 'running' }));
      const results = await Promise.allSettled([
        store.appendOutput('t_known', { lines: ['kept'] }),
        store.appendOutput('t_ghost', { lines: ['lost'] }),
        store.appendCheckpoint('t_ghost', { step: 0, iteration: 1, messages: [] }),
        store.update('t_ghost', {}),
      ]);
      expect(results[0]!.status).toBe('fulfilled');
      for (const result of results.slice(1))
        expect(result).toMatchObject({ status: 'rejected', reason: { code: 'task_not_found', message: 'no task "t_ghost"' } });
      expect(rawOutput(file, 't_known')).toEqual(['kept']);
      await store.close();
    });

    it('a write that fails costs only its own task: the batch is retried task by task', async () => {
      const file = freshFile();
      const store = SqliteTaskStore.open(file);
      for (const id of ['t_x', 't_y', 't_z']) await store.create(taskFixture({ id, status: 'running' }));
      withRawDb(file, (db) =>
        db.exec(`CREATE TRIGGER refuse_boom BEFORE INSERT ON task_output WHEN NEW.line = 'boom' BEGIN SELECT RAISE(ABORT, 'disk says no'); END`),
      );
      const results = await Promise.allSettled([
        store.appendOutput('t_x', { lines: ['fine'] }),
        store.appendOutput('t_y', { lines: ['first', 'boom'], progress: { currentTool: 'never' } }),
        store.appendCheckpoint('t_y', { step: 0, iteration: 1, messages: [] }),
        store.appendCheckpoint('t_z', { step: 0, iteration: 1, messages: [{ role: 'assistant', content: 'kept' }] }),
      ]);
      expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
      expect(results[1]).toMatchObject({ reason: { message: 'disk says no' } });
      expect(rawOutput(file, 't_x')).toEqual(['fine']);
      // Nothing of t_y's failed writes landed: not its lines, its progress or its checkpoint.
      expect(rawOutput(file, 't_y')).toEqual([]);
      expect(await store.get('t_y')).toMatchObject({ outputLines: 0 });
      expect((await store.get('t_y'))!.currentTool).toBeUndefined();
      expect((await store.loadCheckpoint('t_y')).iterations).toBe(0);
      expect((await store.loadCheckpoint('t_z')).messages).toEqual([{ role: 'assistant', content: 'kept' }]);
      await store.appendOutput('t_y', { lines: ['again'] });
      expect(rawOutput(file, 't_y')).toEqual(['again']);
      await store.close();
    });
  });

  it('a damaged compaction record is store_corrupt naming the task and step, never a context built from it', async () => {
    const file = freshFile();
    const store = SqliteTaskStore.open(file);
    await store.create(taskFixture({ id: 't_badcmp' }));
    await store.appendCheckpoint('t_badcmp', { step: 0, iteration: 1, messages: [{ role: 'assistant', content: 'x' }] });
    await store.appendCheckpoint('t_badcmp', { step: 1, iteration: 1, messages: [], compaction: { firstKept: 2, handoff: 'h' } });
    expect((await store.loadCheckpoint('t_badcmp')).compactions).toHaveLength(1);
    withRawDb(file, (db) => db.prepare(`UPDATE task_checkpoints SET compaction = '{"firstKept":0}' WHERE task_id = 't_badcmp' AND step = 1`).run());
    await expect(store.loadCheckpoint('t_badcmp')).rejects.toMatchObject({
      code: 'store_corrupt',
      message: expect.stringContaining('task "t_badcmp" checkpoint step 1 has an invalid compaction record: firstKept'),
    });
    await store.close();
  });

  it("opening waits out a process that holds the new file's write lock before it is in WAL mode", async () => {
    const file = freshFile();
    // Another process created the file and is writing to it in rollback-journal mode (as a racing
    // legate does before its switch to WAL): SQLite refuses the switch at once, not after the
    // busy timeout, so open must try again.
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const Database = require(workerData.driver);
       const db = new Database(workerData.file);
       db.exec('BEGIN IMMEDIATE');
       db.exec('CREATE TABLE other_tool (a)');
       parentPort.postMessage('locked');
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
       db.exec('COMMIT');
       db.close();`,
      { eval: true, workerData: { file, driver: createRequire(import.meta.url).resolve('better-sqlite3') } },
    );
    await once(worker, 'message');
    const store = SqliteTaskStore.open(file);
    await store.create(taskFixture({ id: 't_after_race' }));
    expect((await store.get('t_after_race'))!.id).toBe('t_after_race');
    await store.close();
    await once(worker, 'exit');
    withRawDb(file, (db) => expect(db.pragma('journal_mode', { simple: true })).toBe('wal'));
  });

  it('reads a database written at schema version 1 (fixture)', async () => {
    const file = freshFile();
    withRawDb(file, (db) => db.exec(fixture('v1.sql')));
    const store = SqliteTaskStore.open(file);
    expect(await store.get('t_v1')).toEqual({
      id: 't_v1',
      sessionId: 's_v1',
      status: 'completed',
      createdAt: 1700000000000,
      cwd: '/repo',
      goal: 'count the files',
      context: 'only src/',
      toolsets: ['file'],
      route: 'cheap',
      model: 'small-model',
      depth: 1,
      mode: 'async',
      startedAt: 1700000001000,
      endedAt: 1700000009000,
      exitReason: 'completed',
      summary: 'There are 42 files.',
      apiCalls: 3,
      usage: { inputTokens: 1200, outputTokens: 80 },
      lastActivity: '← list_dir',
      outputLines: 2,
      reported: true,
      owner: 'pid:4242',
    });
    expect((await store.list({ sessionId: 's_v1' })).map((task) => task.id)).toEqual(['t_v1']);
    expect(await store.readOutput('t_v1')).toEqual(['→ list_dir {"path":"src"}', '← list_dir: 42 entries']);
    expect(await store.loadCheckpoint('t_v1')).toEqual({
      iterations: 2,
      steps: 2,
      messages: [
        { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'list_dir', arguments: '{"path":"src"}' }] },
        { role: 'tool', toolCallId: 'c1', name: 'list_dir', content: 'a.ts\nb.ts' },
        { role: 'assistant', content: 'There are 42 files.' },
      ],
    });
    expect((await store.listSteers('t_v1')).map((steer) => [steer.id, steer.message, steer.state, steer.settledAt])).toEqual([
      [1, 'skip node_modules', 'delivered', 1700000003000],
      [2, 'also count tests', 'missed', 1700000009000],
    ]);
    // And it keeps working as a store: new steers continue the id sequence.
    expect((await store.addSteer('t_v1', 'late')).id).toBe(3);
    await store.close();
    withRawDb(file, (db) => expect(db.pragma('user_version', { simple: true })).toBe(latestSchemaVersion));
  });

  it('reads a database written at schema version 2 (fixture): checkpoints renumbered per task, sessions, epochs absent', async () => {
    const file = freshFile();
    withRawDb(file, (db) => db.exec(fixture('v2.sql')));
    const store = SqliteTaskStore.open(file);
    expect(await store.loadCheckpoint('t_v2a')).toEqual({
      iterations: 2,
      steps: 2,
      messages: [
        { role: 'assistant', content: 'a1' },
        { role: 'assistant', content: 'a2' },
      ],
    });
    expect(await store.loadCheckpoint('t_v2b')).toEqual({ iterations: 1, steps: 1, messages: [{ role: 'assistant', content: 'b1' }] });
    expect((await store.sessions.load('s_v2'))!.messages).toEqual([
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'hi' },
    ]);
    const running = await store.get('t_v2b');
    expect(running).toMatchObject({ status: 'running', owner: 'oldhost:4242:abcdef' });
    expect(running!.epoch).toBeUndefined();
    // It keeps working: a claim starts epoch 1, and the next step continues the numbering.
    const claimed = await store.claim('t_v2a', 'interrupted', 'new-owner', Date.now() + 1000);
    expect(claimed.epoch).toBe(1);
    await store.appendCheckpoint('t_v2a', { step: 2, iteration: 3, messages: [{ role: 'assistant', content: 'a3' }] }, { owner: 'new-owner', epoch: 1 });
    expect((await store.loadCheckpoint('t_v2a')).messages.map((message) => message.content)).toEqual(['a1', 'a2', 'a3']);
    await store.close();
  });

  it('the v1 fixture has exactly the schema migration 1 builds', () => {
    const shape = (db: Database.Database) =>
      (db.prepare("SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all() as { type: string; name: string }[]).map(
        (entry) => ({ ...entry, columns: db.pragma(`${entry.type === 'index' ? 'index_xinfo' : 'table_xinfo'}(${entry.name})`) }),
      );
    const fromFixture = new Database(':memory:');
    fromFixture.exec(fixture('v1.sql'));
    const fromMigration = new Database(':memory:');
    fromMigration.exec(sqliteMigrations[0]!.sql);
    expect(shape(fromFixture)).toEqual(shape(fromMigration));
    fromFixture.close();
    fromMigration.close();
  });

  it('refuses a database from a newer legate, naming the file and both versions, and leaves it alone', () => {
    const file = freshFile();
    const newer = latestSchemaVersion + 1;
    withRawDb(file, (db) => db.pragma(`user_version = ${newer}`));
    expect(() => SqliteTaskStore.open(file)).toThrow(
      expect.objectContaining({
        code: 'store_too_new',
        message: expect.stringContaining(`"${file}" has schema version ${newer}, but this legate knows versions up to ${latestSchemaVersion}`),
      }),
    );
    withRawDb(file, (db) => {
      expect(db.pragma('user_version', { simple: true })).toBe(newer);
      expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'tasks'").get()).toEqual({ n: 0 });
    });
  });
});

describe('WriteBatch', () => {
  it('commits on the next turn, or at once when the batch has waited its longest during a long turn', async () => {
    const commits: string[][] = [];
    const batch = new WriteBatch((writes) => {
      commits.push([...writes.keys()]);
      return new Map();
    }, 5);
    const first = batch.add('t_1', (writes) => writes.lines.push('a'));
    batch.add('t_2', (writes) => writes.lines.push('b'));
    expect(commits).toEqual([]);
    await first;
    expect(commits).toEqual([['t_1', 't_2']]);

    // One long synchronous turn: the write made after the limit commits the batch there and then.
    void batch.add('t_3', (writes) => writes.lines.push('c'));
    const until = performance.now() + 10;
    while (performance.now() < until);
    void batch.add('t_4', (writes) => writes.lines.push('d'));
    expect(commits).toEqual([
      ['t_1', 't_2'],
      ['t_3', 't_4'],
    ]);
    void batch.add('t_5', (writes) => writes.lines.push('e'));
    expect(commits).toHaveLength(2);
    batch.flush();
    expect(commits.at(-1)).toEqual(['t_5']);
  });
});
