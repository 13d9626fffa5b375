import type Database from 'better-sqlite3';
import type { Budget, SpendCounter } from '../../../budget/budget.js';
import { LegateError } from '../../../errors.js';
import type { TaskStatus } from '../../status.js';
import type { Fence, SteerRecord, StoredApprovalAnswer, TaskProgress, TaskRecord } from '../../task-record.js';
import { answered, assertTransitionArguments, withApprovalRule } from '../approval-rules.js';
import { checkpointOfSteps, parseStoredCompaction } from '../checkpoint-log.js';
import { parseStoredMessages } from '../stored-shapes.js';
import {
  type Checkpoint,
  type CheckpointStep,
  type OutputWrite,
  outputLineChars,
  type TaskFilter,
  type TaskStore,
  type TransitionPatch,
} from '../task-store.js';
import { chargeSpend, raiseBudget } from './sqlite-budgets.js';
import { commitWrites } from './sqlite-commit.js';
import { moveTask } from './sqlite-move.js';
import { openTaskDatabase } from './sqlite-open.js';
import { SqliteSessionStore } from './sqlite-sessions.js';
import { StatementCache } from './sqlite-statements.js';
import { settleSteers } from './sqlite-steers.js';
import { notFound, requireTask } from './sqlite-task-checks.js';
import { whereClause } from './sqlite-task-filter.js';
import { steerFromRow, type TaskRow, taskColumns, taskFromRow, taskToRow } from './sqlite-task-row.js';
import { type TaskWrites, WriteBatch } from './sqlite-write-batch.js';

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
 *
 * The pieces: opening (`sqlite-open.ts`), the group commit (`sqlite-commit.ts`), the conditional
 * move (`sqlite-move.ts`), steers (`sqlite-steers.ts`), sessions (`sqlite-sessions.ts`), rows
 * (`sqlite-task-row.ts`), filters (`sqlite-task-filter.ts`).
 */
export class SqliteTaskStore implements TaskStore {
  private readonly statements: StatementCache;
  readonly sessions: SqliteSessionStore;
  private readonly getTask: Database.Statement<[string], TaskRow>;
  private readonly readLines: Database.Statement<[string], string>;
  private readonly batch: WriteBatch;

  private constructor(
    private readonly db: Database.Database,
    /** The database file, as given to `open`. */
    readonly file: string,
  ) {
    this.statements = new StatementCache(db);
    this.sessions = new SqliteSessionStore(this.statements);
    this.getTask = db.prepare<[string], TaskRow>('SELECT * FROM tasks WHERE id = ?');
    this.readLines = db.prepare<[string], string>('SELECT line FROM task_output WHERE task_id = ? ORDER BY seq').pluck();
    const commit = db.transaction((writes: Map<string, TaskWrites>) => commitWrites(this.statements, writes));
    this.batch = new WriteBatch((writes) => commit.immediate(writes));
  }

  /**
   * Opens (creating it and its parent directories if needed) and migrates the store at `file`;
   * `:memory:` gives a private in-memory database. Throws `store_too_new` for a database written
   * by a newer legate.
   */
  static open(file: string): SqliteTaskStore {
    return new SqliteTaskStore(openTaskDatabase(file), file);
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
    this.flushFor(id);
    return moveTask(this.statements, id, from, to, withApprovalRule(to, patch), [], fence);
  }

  async claim(id: string, from: TaskStatus | readonly TaskStatus[], owner: string, leaseExpiresAt: number, patch: TransitionPatch = {}): Promise<TaskRecord> {
    this.flushFor(id);
    return moveTask(this.statements, id, from, 'running', { ...withApprovalRule('running', patch), owner, leaseExpiresAt }, ['epoch = coalesce(epoch, 0) + 1']);
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

  async chargeSpend(id: string, own: SpendCounter, fence?: Fence): Promise<void> {
    this.flushFor(id);
    chargeSpend(this.statements, id, own, fence);
  }

  async raiseBudget(id: string, key: string, by: Budget): Promise<TaskRecord> {
    this.flushFor(id);
    return raiseBudget(this.statements, id, key, by);
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
    if (lines.length === 0) requireTask(this.statements, id);
    return lines;
  }

  async appendCheckpoint(id: string, step: CheckpointStep, fence?: Fence): Promise<void> {
    const messages = JSON.stringify(step.messages);
    const compaction = step.compaction ? JSON.stringify(step.compaction) : null;
    return this.batch.add(id, (writes) => writes.checkpoints.push({ step: step.step, iteration: step.iteration, messages, compaction }), fence);
  }

  async loadCheckpoint(id: string): Promise<Checkpoint> {
    this.flushFor(id);
    const rows = this.statement('SELECT step, iteration, format, messages, compaction FROM task_checkpoints WHERE task_id = ? ORDER BY step').all(id);
    if (rows.length === 0) requireTask(this.statements, id);
    return checkpointOfSteps(
      rows.map((row) => {
        const where = `task "${id}" checkpoint step ${String(row.step)}`;
        const compaction = row.compaction === null ? undefined : parseStoredCompaction(row.compaction, where);
        return {
          step: row.step as number,
          iteration: row.iteration as number,
          messages: parseStoredMessages(row.messages, row.format as number, where),
          compaction,
        };
      }),
    );
  }

  async addSteer(taskId: string, message: string): Promise<SteerRecord> {
    const row = this.statement(`INSERT INTO task_steers (task_id, message, state, created_at)
      SELECT id, ?, 'queued', ? FROM tasks WHERE id = ? RETURNING *`).get(message, Date.now(), taskId);
    if (!row) throw notFound(taskId);
    return steerFromRow(row);
  }

  async takeSteers(taskId: string, fence?: Fence): Promise<SteerRecord[]> {
    return settleSteers(this.statements, taskId, 'delivered', fence);
  }

  async missSteers(taskId: string): Promise<number> {
    return settleSteers(this.statements, taskId, 'missed').length;
  }

  async listSteers(taskId: string): Promise<SteerRecord[]> {
    const rows = this.statement('SELECT * FROM task_steers WHERE task_id = ? ORDER BY id').all(taskId);
    if (rows.length === 0) requireTask(this.statements, taskId);
    return rows.map(steerFromRow);
  }

  async close(): Promise<void> {
    this.batch.flush();
    if (this.db.open) this.db.close();
  }

  private flushFor(taskId: string): void {
    if (this.batch.has(taskId)) this.batch.flush();
  }

  private statement(sql: string): Database.Statement<unknown[], TaskRow> {
    return this.statements.get(sql);
  }
}
