import type { Message } from '../../provider/types.js';
import type { TaskStatus } from '../status.js';
import type { SessionRecord, SteerRecord, TaskProgress, TaskRecord } from '../task-record.js';

export interface TaskFilter {
  sessionId?: string;
  status?: TaskStatus[];
  cwd?: string;
  /** Newest first; default 100. */
  limit?: number;
}

/** Fields a transition may set together with the new status. */
export type TransitionPatch = Partial<Pick<TaskRecord, 'startedAt' | 'endedAt' | 'exitReason' | 'error' | 'summary' | 'apiCalls' | 'usage' | 'owner' | 'leaseExpiresAt' | 'currentTool'>>;

/** Output buffer size: the last `outputBufferLines` lines of `outputLineChars` characters each. */
export const outputBufferLines = 200;
export const outputLineChars = 500;

/**
 * Where tasks live. Every backend (memory, SQLite, later Redis) passes one conformance suite
 * (`test/tasks/store-conformance.ts`). Methods reject with `task_not_found` for an unknown id and
 * `illegal_transition` when a conditional transition finds another state. Calls about one task
 * take effect in the order they are made, whether or not the caller awaits each before the next
 * (a networked backend keeps an ordered queue per task).
 */
export interface TaskStore {
  create(task: TaskRecord): Promise<void>;
  get(id: string): Promise<TaskRecord | undefined>;
  list(filter?: TaskFilter): Promise<TaskRecord[]>;
  /** How many tasks match `filter` (its `limit` ignored). */
  count(filter?: Omit<TaskFilter, 'limit'>): Promise<number>;
  /**
   * Conditional, atomic: applies only if the task is in one of `from` and `from → to` is legal.
   * Returns the updated record.
   */
  transition(id: string, from: TaskStatus | readonly TaskStatus[], to: TaskStatus, patch?: TransitionPatch): Promise<TaskRecord>;
  /** Progress while running (no status change). */
  update(id: string, progress: TaskProgress): Promise<void>;

  /**
   * Renew the lease of every `running` task owned by `owner` until `leaseExpiresAt`. Returns the
   * ids still running under that owner: a task missing from it was cancelled or taken over
   * elsewhere, and its runner must stop.
   */
  heartbeat(owner: string, leaseExpiresAt: number): Promise<string[]>;
  /** Delete ended tasks (completed, failed, cancelled) that ended before `endedBefore`, with all they hold. Returns how many. */
  prune(endedBefore: number): Promise<number>;

  /**
   * Append lines (each capped to `outputLineChars`; the store keeps the last `outputBufferLines`),
   * and apply `progress` in the same write: a running task's output and progress land together.
   */
  appendOutput(id: string, lines: string[], progress?: TaskProgress): Promise<void>;
  /** The buffered output, oldest first; only the last `last` lines when given. */
  readOutput(id: string, last?: number): Promise<string[]>;

  /** Checkpoint one completed step of the child's conversation. */
  appendCheckpoint(id: string, step: { iteration: number; messages: Message[] }): Promise<void>;
  /** The checkpointed conversation, steps concatenated in order. */
  loadCheckpoint(id: string): Promise<{ iterations: number; messages: Message[] }>;

  addSteer(taskId: string, message: string): Promise<SteerRecord>;
  /** Atomically mark every queued steer of the task delivered and return them in order. */
  takeSteers(taskId: string): Promise<SteerRecord[]>;
  /** Mark every still-queued steer missed (the task ended first); returns how many. */
  missSteers(taskId: string): Promise<number>;
  listSteers(taskId: string): Promise<SteerRecord[]>;

  /** Create or replace a session (a chat/run conversation). */
  saveSession(session: SessionRecord): Promise<void>;
  loadSession(id: string): Promise<SessionRecord | undefined>;
  /** Most recently updated first; default limit 20. */
  listSessions(filter?: { cwd?: string; limit?: number }): Promise<SessionRecord[]>;

  close(): Promise<void>;
}
