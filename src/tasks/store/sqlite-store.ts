import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { errorMessage, LegateError } from '../../errors.js';
import { assertTransition, canTransition, type TaskStatus } from '../status.js';
import type { Fence, SessionRecord, SteerRecord, StoredApprovalAnswer, TaskProgress, TaskRecord } from '../task-record.js';
import { answered, assertTransitionArguments, withApprovalRule } from './approval-rules.js';
import { fenceHolds, leaseLost } from './fence.js';
import { migrate } from './sqlite-migrations.js';
import { assignments, steerFromRow, type TaskRow, taskColumns, taskFromRow, taskToRow } from './sqlite-task-row.js';
import { type TaskWrites, WriteBatch } from './sqlite-write-batch.js';
import { parseStoredMessages, storedFormat } from './stored-shapes.js';
import {
  type Checkpoint,
  type CheckpointStep,
  type OutputWrite,
  outputBufferLines,
  outputLineChars,
  patchFields,
  progressFields,
  type TaskFilter,
  type TaskStore,
  type TransitionPatch,
} from './task-store.js';

const insertTaskSql = `INSERT INTO tasks (${taskColumns.map((spec) => spec.column).join(', ')}, extra)
  VALUES (${taskColumns.map((spec) => `@${spec.column}`).join(', ')}, @extra) ON CONFLICT (id) DO NOTHING`;

/**
 * A TaskStore in one SQLite file (`$LEGATE_HOME/state.db`), shared by every legate process on the
 * machine: WAL mode so readers never block, a busy timeout so writers queue instead of failing, and
 * every read-modify-write in an immediate transaction or a single conditional statement. The
 * methods are async to match the interface; the work is synchronous better-sqlite3 calls.
 *
 * A running task's hot path (`appendOutput`, `appendCheckpoint`, `update`) is group-committed: the
 * writes of one event-loop turn, from every task, go to the file in one transaction on the next
 * turn (see `WriteBatch`); each call resolves when its write is committed. Reading or moving a
 * task with writes pending (`get`, `list`, `readOutput`, `loadCheckpoint`, `transition`, `prune`,
 * `close`) commits them first, so reads always see them and a transition lands after them; steers
 * and sessions live in other tables and do not wait.
 */
export class SqliteTaskStore implements TaskStore {
  private readonly statements = new Map<string, Database.Statement<unknown[], TaskRow>>();
  private readonly getTask: Database.Statement<[string], TaskRow>;
  private readonly readLines: Database.Statement<[string], string>;
  private readonly batch: WriteBatch;

  private constructor(
    private readonly db: Database.Database,
    /** The database file, as given to `open`. */
    readonly file: string,
  ) {
    this.getTask = db.prepare<[string], TaskRow>('SELECT * FROM tasks WHERE id = ?');
    this.readLines = db.prepare<[string], string>('SELECT line FROM task_output WHERE task_id = ? ORDER BY seq').pluck();
    const commit = db.transaction((writes: Map<string, TaskWrites>) => this.commitWrites(writes));
    this.batch = new WriteBatch((writes) => commit.immediate(writes));
  }

  /**
   * Opens (creating it and its parent directories if needed) and migrates the store at `file`;
   * `:memory:` gives a private in-memory database. Throws `store_too_new` for a database written
   * by a newer legate.
   */
  static open(file: string): SqliteTaskStore {
    if (file !== ':memory:' && file !== '') mkdirSync(dirname(file), { recursive: true });
    // Processes starting together on a new file race to switch it to WAL and migrate it; a loser
    // can be refused "database is locked" at once, without the busy timeout: it tries again.
    const giveUpAt = Date.now() + openRetryMs;
    for (let attempt = 1; ; attempt++) {
      const db = new Database(file);
      try {
        db.pragma('busy_timeout = 5000');
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        db.pragma('foreign_keys = ON');
        migrate(db, file);
        return new SqliteTaskStore(db, file);
      } catch (error) {
        db.close();
        if (!isBusy(error)) throw error;
        if (Date.now() >= giveUpAt) {
          throw new LegateError('store_locked', `task store "${file}" stayed locked by another process for ${openRetryMs / 1000} s: ${errorMessage(error)}`, {
            file,
          });
        }
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(200, 10 * attempt));
      }
    }
  }

  async create(task: TaskRecord): Promise<void> {
    const { changes } = this.statement(insertTaskSql).run(taskToRow(task));
    if (changes === 0) throw new LegateError('invalid_arguments', `task "${task.id}" already exists`, { taskId: task.id });
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    this.flushFor(id);
    const row = this.getTask.get(id);
    return row ? taskFromRow(row) : undefined;
  }

  async list(filter: TaskFilter = {}): Promise<TaskRecord[]> {
    this.batch.flush();
    const { where, params } = whereClause(filter);
    params.limit = filter.limit ?? 100;
    return this.statement(`SELECT * FROM tasks ${where} ORDER BY created_at DESC, id DESC LIMIT @limit`).all(params).map(taskFromRow);
  }

  async count(filter: Omit<TaskFilter, 'limit'> = {}): Promise<number> {
    const { where, params } = whereClause(filter);
    return this.statement(`SELECT count(*) AS count FROM tasks ${where}`).get(params)!.count as number;
  }

  async transition(id: string, from: TaskStatus | readonly TaskStatus[], to: TaskStatus, patch: TransitionPatch = {}, fence?: Fence): Promise<TaskRecord> {
    assertTransitionArguments(id, from, to, patch, fence);
    return this.move(id, from, to, withApprovalRule(to, patch), [], fence);
  }

  async claim(id: string, from: TaskStatus | readonly TaskStatus[], owner: string, leaseExpiresAt: number, patch: TransitionPatch = {}): Promise<TaskRecord> {
    return this.move(id, from, 'running', { ...withApprovalRule('running', patch), owner, leaseExpiresAt }, ['epoch = coalesce(epoch, 0) + 1']);
  }

  async answerApproval(id: string, requestId: string, answer: StoredApprovalAnswer): Promise<TaskRecord> {
    this.flushFor(id);
    return this.db
      .transaction(() => {
        const row = this.getTask.get(id);
        if (!row) throw notFound(id);
        const task = taskFromRow(row);
        const approval = answered(task, requestId, answer);
        if (approval === task.approval) return task;
        const updated = this.statement('UPDATE tasks SET approval = ? WHERE id = ? RETURNING *').get(JSON.stringify(approval), id)!;
        return taskFromRow(updated);
      })
      .immediate();
  }

  async update(id: string, progress: TaskProgress, fence?: Fence): Promise<void> {
    return this.batch.add(id, (writes) => Object.assign(writes.progress, progress), fence);
  }

  async heartbeat(owner: string, leaseExpiresAt: number): Promise<Array<Fence & { id: string }>> {
    return this.statement(
      `UPDATE tasks SET lease_expires_at = ? WHERE owner = ? AND status IN ('running', 'input_required') RETURNING id, coalesce(epoch, 0) AS epoch`,
    )
      .all(leaseExpiresAt, owner)
      .map((row) => ({ id: row.id as string, owner, epoch: row.epoch as number }));
  }

  async prune(endedBefore: number): Promise<number> {
    this.batch.flush();
    const { changes } = this.statement(`DELETE FROM tasks WHERE status IN ('completed', 'failed', 'cancelled') AND ended_at < ?`).run(endedBefore);
    return changes;
  }

  async appendOutput(id: string, write: OutputWrite, fence?: Fence): Promise<void> {
    return this.batch.add(
      id,
      (writes) => {
        if (writes.at === undefined && write.at !== undefined) writes.at = write.at - writes.lines.length;
        for (const line of write.lines) writes.lines.push(line.length > outputLineChars ? line.slice(0, outputLineChars) : line);
        Object.assign(writes.progress, write.progress ?? {});
      },
      fence,
    );
  }

  async readOutput(id: string, last?: number): Promise<string[]> {
    this.flushFor(id);
    const lines =
      last === undefined
        ? this.readLines.all(id)
        : (
            this.statement('SELECT line FROM (SELECT seq, line FROM task_output WHERE task_id = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq').all(
              id,
              last,
            ) as TaskRow[]
          ).map((row) => row.line as string);
    if (lines.length === 0) this.requireTask(id);
    return lines;
  }

  async appendCheckpoint(id: string, step: CheckpointStep, fence?: Fence): Promise<void> {
    const messages = JSON.stringify(step.messages);
    return this.batch.add(id, (writes) => writes.checkpoints.push({ step: step.step, iteration: step.iteration, messages }), fence);
  }

  async loadCheckpoint(id: string): Promise<Checkpoint> {
    this.flushFor(id);
    const rows = this.statement('SELECT step, iteration, format, messages FROM task_checkpoints WHERE task_id = ? ORDER BY step').all(id);
    if (rows.length === 0) this.requireTask(id);
    return {
      iterations: (rows.at(-1)?.iteration as number | undefined) ?? 0,
      steps: rows.length,
      messages: rows.flatMap((row) => parseStoredMessages(row.messages, row.format as number, `task "${id}" checkpoint step ${String(row.step)}`)),
    };
  }

  async addSteer(taskId: string, message: string): Promise<SteerRecord> {
    const row = this.statement(`INSERT INTO task_steers (task_id, message, state, created_at)
      SELECT id, ?, 'queued', ? FROM tasks WHERE id = ? RETURNING *`).get(message, Date.now(), taskId);
    if (!row) throw notFound(taskId);
    return steerFromRow(row);
  }

  async takeSteers(taskId: string, fence?: Fence): Promise<SteerRecord[]> {
    return this.settle(taskId, 'delivered', fence);
  }

  async missSteers(taskId: string): Promise<number> {
    return this.settle(taskId, 'missed').length;
  }

  async listSteers(taskId: string): Promise<SteerRecord[]> {
    const rows = this.statement('SELECT * FROM task_steers WHERE task_id = ? ORDER BY id').all(taskId);
    if (rows.length === 0) this.requireTask(taskId);
    return rows.map(steerFromRow);
  }

  async saveSession(session: SessionRecord): Promise<void> {
    this.statement(`INSERT INTO sessions (id, cwd, created_at, updated_at, format, messages) VALUES (@id, @cwd, @createdAt, @updatedAt, @format, @messages)
      ON CONFLICT (id) DO UPDATE SET cwd = excluded.cwd, updated_at = excluded.updated_at, format = excluded.format, messages = excluded.messages`).run({
      id: session.id,
      cwd: session.cwd,
      createdAt: session.createdAt,
      updatedAt: session.updatedAt,
      format: storedFormat,
      messages: JSON.stringify(session.messages),
    });
  }

  async loadSession(id: string): Promise<SessionRecord | undefined> {
    const row = this.statement('SELECT * FROM sessions WHERE id = ?').get(id);
    return row ? sessionFromRow(row) : undefined;
  }

  async listSessions(filter: { cwd?: string; limit?: number } = {}): Promise<SessionRecord[]> {
    const rows =
      filter.cwd === undefined
        ? this.statement('SELECT * FROM sessions ORDER BY updated_at DESC LIMIT ?').all(filter.limit ?? 20)
        : this.statement('SELECT * FROM sessions WHERE cwd = ? ORDER BY updated_at DESC LIMIT ?').all(filter.cwd, filter.limit ?? 20);
    return rows.map(sessionFromRow);
  }

  async close(): Promise<void> {
    this.batch.flush();
    if (this.db.open) this.db.close();
  }

  /**
   * One group commit (inside the batch's transaction): per task, its counters and progress in one
   * UPDATE, its new output lines, the trim, its checkpoints. A task that does not exist gets
   * nothing written and is returned as refused.
   */
  private commitWrites(batch: Map<string, TaskWrites>): Map<string, unknown> {
    const refused = new Map<string, unknown>();
    for (const [id, writes] of batch) {
      let { lines } = writes;
      if (writes.fence || writes.at !== undefined) {
        const row = this.statement('SELECT status, owner, epoch, output_lines FROM tasks WHERE id = ?').get(id);
        if (!row) {
          refused.set(id, notFound(id));
          continue;
        }
        const current = { status: row.status as TaskStatus, owner: (row.owner ?? undefined) as string | undefined, epoch: (row.epoch ?? 0) as number };
        if (!fenceHolds(current, writes.fence)) {
          refused.set(id, leaseLost(id, writes.fence!, current));
          continue;
        }
        // Lines already counted past `at` came from an earlier copy of this write.
        if (writes.at !== undefined) lines = lines.slice(Math.max(0, (row.output_lines as number) - writes.at));
      }
      const set = assignments(writes.progress, progressFields);
      let total = 0;
      if (lines.length > 0 || set.sql.length > 0) {
        const counted = this.statement(
          `UPDATE tasks SET ${['output_lines = output_lines + @count', ...set.sql].join(', ')} WHERE id = @id RETURNING output_lines`,
        ).get({ ...set.params, count: lines.length, id });
        if (!counted) {
          refused.set(id, notFound(id));
          continue;
        }
        total = counted.output_lines as number;
      } else if (!this.statement('SELECT 1 FROM tasks WHERE id = ?').get(id)) {
        refused.set(id, notFound(id));
        continue;
      }
      if (lines.length > 0) {
        const insert = this.statement('INSERT INTO task_output (task_id, seq, line) VALUES (?, ?, ?)');
        // Lines that would be trimmed at once are never written.
        for (let index = Math.max(0, lines.length - outputBufferLines); index < lines.length; index++)
          insert.run(id, total - lines.length + index, lines[index]!);
        if (total > outputBufferLines) this.statement('DELETE FROM task_output WHERE task_id = ? AND seq < ?').run(id, total - outputBufferLines);
      }
      const checkpoint = this.statement(
        'INSERT INTO task_checkpoints (task_id, step, iteration, format, messages) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      );
      for (const step of writes.checkpoints) checkpoint.run(id, step.step, step.iteration, storedFormat, step.messages);
    }
    return refused;
  }

  /** Marks every queued steer of the task settled, atomically; returns them in order. */
  private settle(taskId: string, state: 'delivered' | 'missed', fence?: Fence): SteerRecord[] {
    // Called before every model call and almost always empty: look before taking the write lock.
    if (!this.statement(`SELECT 1 FROM task_steers WHERE task_id = ? AND state = 'queued' LIMIT 1`).get(taskId)) {
      this.requireTask(taskId, fence);
      return [];
    }
    return this.db
      .transaction(() => {
        this.requireTask(taskId, fence);
        const rows = this.statement(`UPDATE task_steers SET state = ?, settled_at = ? WHERE task_id = ? AND state = 'queued' RETURNING *`).all(
          state,
          Date.now(),
          taskId,
        );
        return rows.map(steerFromRow).sort((a, b) => a.id - b.id);
      })
      .immediate();
  }

  /** Throws `task_not_found`, or `lease_lost` when `fence` does not hold. */
  private requireTask(id: string, fence?: Fence): void {
    const row = this.statement('SELECT status, owner, epoch FROM tasks WHERE id = ?').get(id);
    if (!row) throw notFound(id);
    const current = { status: row.status as TaskStatus, owner: (row.owner ?? undefined) as string | undefined, epoch: (row.epoch ?? 0) as number };
    if (!fenceHolds(current, fence)) throw leaseLost(id, fence!, current);
  }

  /**
   * The conditional UPDATE behind `transition` and `claim`: status in `from` (those from which `to`
   * is legal), owner and epoch when fenced; `extra` are further SET clauses.
   */
  private move(id: string, from: TaskStatus | readonly TaskStatus[], to: TaskStatus, patch: TransitionPatch, extra: string[], fence?: Fence): TaskRecord {
    this.flushFor(id);
    const expected: readonly TaskStatus[] = typeof from === 'string' ? [from] : from;
    // Only states from which `to` is a legal move go into the condition.
    const legalFrom = expected.filter((status) => canTransition(status, to));
    if (legalFrom.length > 0) {
      const set = assignments(patch, patchFields);
      const params: TaskRow = { ...set.params, id, to };
      legalFrom.forEach((status, index) => (params[`from${index}`] = status));
      const conditions = [`id = @id`, `status IN (${legalFrom.map((_, index) => `@from${index}`).join(', ')})`];
      if (fence) {
        conditions.push('owner = @fenceOwner', 'coalesce(epoch, 0) = @fenceEpoch');
        Object.assign(params, { fenceOwner: fence.owner, fenceEpoch: fence.epoch });
      }
      const row = this.statement(`UPDATE tasks SET ${['status = @to', ...set.sql, ...extra].join(', ')} WHERE ${conditions.join(' AND ')} RETURNING *`).get(
        params,
      );
      if (row) return taskFromRow(row);
    }
    // Nothing changed: say why, from the row as it is now.
    const current = this.getTask.get(id);
    if (!current) throw notFound(id);
    const status = current.status as TaskStatus;
    if (!expected.includes(status)) {
      throw new LegateError('illegal_transition', `task "${id}" is ${status}, not ${expected.join(' or ')}`, { taskId: id, from: status, to });
    }
    assertTransition(id, status, to);
    const held = { status, owner: (current.owner ?? undefined) as string | undefined, epoch: (current.epoch ?? 0) as number };
    if (!fenceHolds(held, fence)) throw leaseLost(id, fence!, held);
    // Another process moved it into `expected` between the update and this read.
    throw new LegateError('illegal_transition', `task "${id}" was not ${expected.join(' or ')} when asked to become ${to} (it is ${status} now)`, {
      taskId: id,
      from: status,
      to,
    });
  }

  private flushFor(taskId: string): void {
    if (this.batch.has(taskId)) this.batch.flush();
  }

  /** A prepared statement, prepared on first use and cached by its SQL text. */
  private statement(sql: string): Database.Statement<unknown[], TaskRow> {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare<unknown[], TaskRow>(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

const openRetryMs = 5_000;

/** `WHERE …` and its parameters for a task filter (its limit aside). */
function whereClause(filter: Omit<TaskFilter, 'limit'>): { where: string; params: TaskRow } {
  const conditions: string[] = [];
  const params: TaskRow = {};
  if (filter.sessionId !== undefined) {
    conditions.push('session_id = @sessionId');
    params.sessionId = filter.sessionId;
  }
  if (filter.status) {
    conditions.push(`status IN (${filter.status.map((_, index) => `@status${index}`).join(', ') || 'NULL'})`);
    filter.status.forEach((status, index) => (params[`status${index}`] = status));
  }
  if (filter.cwd !== undefined) {
    conditions.push('cwd = @cwd');
    params.cwd = filter.cwd;
  }
  return { where: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '', params };
}

function isBusy(error: unknown): boolean {
  return error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY');
}

function notFound(id: string): LegateError {
  return new LegateError('task_not_found', `no task "${id}"`, { taskId: id });
}

function sessionFromRow(row: TaskRow): SessionRecord {
  return {
    id: row.id as string,
    cwd: row.cwd as string,
    createdAt: row.created_at as number,
    updatedAt: row.updated_at as number,
    messages: parseStoredMessages(row.messages, row.format as number, `session "${String(row.id)}"`),
  };
}
