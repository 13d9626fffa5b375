/**
 * A TaskStore in Redis (≥ 7), shared by every legate process of a deployment, on any machine.
 * The key layout is in `redis-keys.ts`, the scripts in `scripts/`, the connection, order and
 * replay rules in `redis-commands.ts`. Nothing here stores credentials: the records carry none.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Budget, SpendCounter } from '../../../budget/budget.js';
import { LegateError } from '../../../errors.js';
import { assertTransition, canTransition, isTerminal, type TaskStatus } from '../../status.js';
import type { Fence, SteerRecord, StoredApprovalAnswer, TaskProgress, TaskRecord } from '../../task-record.js';
import { assertTransitionArguments, notWaiting, withApprovalRule } from '../approval-rules.js';
import {
  type Checkpoint,
  type CheckpointStep,
  type OutputWrite,
  patchFields,
  progressFields,
  type TaskFilter,
  type TaskStore,
  type TransitionPatch,
} from '../task-store.js';
import { fencedError, flatten, notFound, RedisCommands, type TaskChange, type WriteCondition, type WriteReply } from './redis-commands.js';
import { closeRedis, connectRedis, type RedisConnectionOptions, storeError } from './redis-connection.js';
import { DeploymentMarker } from './redis-deployment.js';
import { loadFunctions } from './redis-functions.js';
import { defaultRedisPrefix, RedisKeys } from './redis-keys.js';
import { checkRedisLayout } from './redis-layout.js';
import { checkpointFromReply, recordToFields, steersFromReply, taskFromReply } from './redis-record.js';
import { RedisSessionStore } from './redis-sessions.js';
import * as scripts from './scripts/index.js';

export type { TaskChange, WriteCondition, WriteReply } from './redis-commands.js';
export { redisSchemaVersion } from './redis-layout.js';

/** About how many tasks one heartbeat command renews (SSCAN's COUNT). */
const heartbeatSlice = 50;

export interface RedisTaskStoreOptions extends RedisConnectionOptions {
  url: string;
  /** `tasks.redis_prefix`; default `legate`. */
  prefix?: string;
  /** How long an ended task's checkpoints (and replay log) stay; default 10 minutes. */
  endedTtlMs?: number;
  /**
   * Where this LEGATE_HOME remembers the deployment marker it last saw (see `DeploymentMarker`), so that a
   * process opened after a Redis restarted empty says so too; none: only a reset seen while open is told.
   */
  seenFile?: string;
  /** Told once per reset: "the Redis at URL has lost this deployment's tasks (restarted without persistence?)". */
  onReset?: (message: string) => void;
}

/**
 * The TaskStore of shared mode (layout, order and replays: see the note at the top; design note: docs/redis-store.md).
 * Never throws for a reachable Redis except as the interface says; an unreachable one gives
 * `store_unavailable`.
 */
export class RedisTaskStore extends RedisCommands implements TaskStore {
  private constructor(redis: Redis, url: string, keys: RedisKeys, endedTtlMs: number, functions: boolean, marker: DeploymentMarker) {
    super(redis, url, keys, endedTtlMs, functions, marker);
    this.sessions = new RedisSessionStore(keys, {
      eval: (script, keyNames, args) => this.eval(script, keyNames, args),
      hash: (key) => {
        this.batches.flush();
        return this.command(this.redis.hgetall(key).then(flatten));
      },
    });
  }

  readonly sessions: RedisSessionStore;

  /**
   * Connects to `options.url` and checks the key layout version (writing it for a new prefix).
   * Rejects with `store_unavailable` (masked URL) when Redis cannot be reached, `store_too_new`
   * when the prefix was written by a newer legate, and `config_invalid` when Redis may evict keys
   * (a memory limit with a `maxmemory-policy` other than `noeviction`): an evicted record is a
   * lost task.
   */
  static async open(options: RedisTaskStoreOptions): Promise<RedisTaskStore> {
    const keys = new RedisKeys(options.prefix ?? defaultRedisPrefix);
    return RedisTaskStore.attach(await connectRedis(options.url, options), { ...options, prefix: keys.prefix });
  }

  /**
   * A store on a connection the caller made (connected, one per store: the store's call order is
   * the connection's). `close` quits it.
   */
  static async attach(redis: Redis, options: RedisTaskStoreOptions): Promise<RedisTaskStore> {
    const keys = new RedisKeys(options.prefix ?? defaultRedisPrefix);
    try {
      await checkRedisLayout(redis, options.url, keys);
      const functions = await loadFunctions(redis).catch((error: unknown) => {
        throw storeError(options.url, error);
      });
      const marker = await DeploymentMarker.open(redis, options.url, keys.deployment, {
        ...(options.seenFile !== undefined ? { seenFile: options.seenFile } : {}),
        ...(options.onReset ? { onReset: options.onReset } : {}),
      });
      return new RedisTaskStore(redis, options.url, keys, options.endedTtlMs ?? 10 * 60_000, functions, marker);
    } catch (error) {
      redis.disconnect();
      throw error;
    }
  }

  async create(task: TaskRecord): Promise<void> {
    const { keys } = this;
    const ended = isTerminal(task.status) && task.endedAt !== undefined ? String(task.endedAt) : '';
    const reply = await this.eval(
      scripts.createScript,
      [...this.writeKeys(task.id), keys.tasks, keys.sessionTasks(task.sessionId), keys.ended, ...keys.statusSets],
      [...this.writeArgs(), task.id, String(task.createdAt), task.status, ended, ...recordToFields(task)],
    );
    if (reply === 'exists') throw new LegateError('invalid_arguments', `task "${task.id}" already exists`, { taskId: task.id });
  }

  /** `store_reset` rather than undefined for a task lost to a Redis restarted empty (see `DeploymentMarker`). */
  async get(id: string): Promise<TaskRecord | undefined> {
    this.batches.flush();
    const task = taskFromReply(await this.command(this.redis.hgetall(this.keys.task(id)).then(flatten)));
    if (task) return task;
    const missing = await this.marker.missing(id, notFound(id));
    if (missing.code === 'store_reset') throw missing;
    return undefined;
  }

  /** `store_reset` when the deployment lost its tasks since the last read (once: the next listing is of what is left). */
  async list(filter: TaskFilter = {}): Promise<TaskRecord[]> {
    const limit = filter.limit ?? 100;
    if (limit <= 0 || filter.status?.length === 0) return [];
    // Sent together: one round trip.
    const [reply, reset] = await Promise.all([this.query('list', filter, limit) as Promise<string[][]>, this.marker.changed()]);
    if (reset) throw this.marker.resetError();
    return reply.map((fields) => taskFromReply(fields)!);
  }

  async count(filter: Omit<TaskFilter, 'limit'> = {}): Promise<number> {
    if (filter.status?.length === 0) return 0;
    if (filter.cwd === undefined && filter.status === undefined) {
      this.batches.flush();
      return this.command(this.redis.zcard(filter.sessionId === undefined ? this.keys.tasks : this.keys.sessionTasks(filter.sessionId)));
    }
    return (await this.query('count', filter, 0)) as number;
  }

  async transition(id: string, from: TaskStatus | readonly TaskStatus[], to: TaskStatus, patch: TransitionPatch = {}, fence?: Fence): Promise<TaskRecord> {
    assertTransitionArguments(id, from, to, patch, fence);
    return this.move(id, from, to, { fence }, { status: to, fields: withApprovalRule(to, patch), allowed: patchFields });
  }

  async claim(id: string, from: TaskStatus | readonly TaskStatus[], owner: string, leaseExpiresAt: number, patch: TransitionPatch = {}): Promise<TaskRecord> {
    const fields = { ...withApprovalRule('running', patch), owner, leaseExpiresAt };
    return this.move(id, from, 'running', {}, { status: 'running', fields, allowed: patchFields, epoch: true });
  }

  async answerApproval(id: string, requestId: string, answer: StoredApprovalAnswer): Promise<TaskRecord> {
    const reply = (await this.eval(scripts.answerApprovalScript, [this.keys.task(id)], [requestId, JSON.stringify(answer)])) as string[];
    if (reply[0] === 'not_found') throw await this.marker.missing(id, notFound(id));
    if (reply[0] === 'status') throw notWaiting(id, reply[1] as TaskStatus);
    if (reply[0] === 'other') throw notWaiting(id, 'input_required', `it waits on request ${reply[1]}, not ${requestId}`);
    return taskFromReply(reply.slice(1))!;
  }

  async chargeSpend(id: string, own: SpendCounter, fence?: Fence): Promise<void> {
    const reply = (await this.eval(
      scripts.chargeSpendScript,
      [this.keys.task(id)],
      [this.keys.prefix, JSON.stringify(own), fence ? JSON.stringify(fence) : ''],
    )) as string[];
    if (reply[0] === 'not_found') throw await this.marker.missing(id, notFound(id));
    if (reply[0] === 'fenced') throw fencedError(id, fence!, reply as WriteReply);
  }

  async raiseBudget(id: string, key: string, by: Budget): Promise<TaskRecord> {
    const reply = (await this.eval(scripts.raiseBudgetScript, [this.keys.task(id)], [key, JSON.stringify(by)])) as string[];
    if (reply[0] === 'not_found') throw await this.marker.missing(id, notFound(id));
    return taskFromReply(reply.slice(1))!;
  }

  async update(id: string, progress: TaskProgress, fence?: Fence): Promise<void> {
    await this.conditionalWrite(id, { fence }, { fields: progress, allowed: progressFields });
  }

  async heartbeat(owner: string, leaseExpiresAt: number): Promise<Array<Fence & { id: string }>> {
    // In slices of about `heartbeatSlice` tasks, so that no one command holds Redis for all of them.
    const held = new Map<string, Fence & { id: string }>();
    let cursor = '0';
    do {
      const reply = (await this.eval(
        scripts.heartbeatScript,
        [this.keys.held(owner)],
        [this.keys.prefix, JSON.stringify(owner), JSON.stringify(leaseExpiresAt), cursor, String(heartbeatSlice)],
      )) as string[];
      cursor = reply[0]!;
      for (let index = 1; index < reply.length; index += 2) held.set(reply[index]!, { id: reply[index]!, owner, epoch: Number(reply[index + 1]) });
    } while (cursor !== '0');
    return [...held.values()];
  }

  async prune(endedBefore: number): Promise<number> {
    const batch = 500;
    let pruned = 0;
    for (;;) {
      const [count, examined] = (await this.eval(
        scripts.pruneScript,
        [this.keys.ended, this.keys.tasks, this.keys.ops, this.keys.opQueue],
        [randomUUID(), this.keys.prefix, String(endedBefore), String(batch)],
      )) as [number, number];
      pruned += count;
      if (examined < batch) return pruned;
    }
  }

  async appendOutput(id: string, write: OutputWrite, fence?: Fence): Promise<void> {
    await this.batches.add(id, fence, { lines: write.lines, ...(write.at !== undefined && { at: write.at }), fields: write.progress ?? {} });
  }

  async readOutput(id: string, last?: number): Promise<string[]> {
    if (last !== undefined && last <= 0) {
      await this.read(id, this.keys.output(id), ['list', '1']);
      return [];
    }
    return this.read(id, this.keys.output(id), ['list', last === undefined ? '' : String(last)]);
  }

  async appendCheckpoint(id: string, step: CheckpointStep, fence?: Fence): Promise<void> {
    await this.batches.add(id, fence, { checkpoint: step });
  }

  async loadCheckpoint(id: string): Promise<Checkpoint> {
    return checkpointFromReply(id, await this.read(id, this.keys.checkpoints(id), ['hash']));
  }

  async addSteer(taskId: string, message: string): Promise<SteerRecord> {
    const { keys } = this;
    const reply = await this.eval(
      scripts.addSteerScript,
      [...this.writeKeys(taskId), keys.steers(taskId), keys.queuedSteers(taskId), keys.steerSeq],
      [...this.writeArgs(), taskId, message, String(Date.now())],
    );
    if (reply === null) throw await this.marker.missing(taskId, notFound(taskId));
    return JSON.parse(reply as string) as SteerRecord;
  }

  async takeSteers(taskId: string, fence?: Fence): Promise<SteerRecord[]> {
    return this.settle(taskId, 'delivered', fence);
  }

  async missSteers(taskId: string): Promise<number> {
    return (await this.settle(taskId, 'missed')).length;
  }

  async listSteers(taskId: string): Promise<SteerRecord[]> {
    return steersFromReply(await this.read(taskId, this.keys.steers(taskId), ['hash']));
  }

  async close(): Promise<void> {
    this.batches.flush();
    if (this.redis.status === 'end') return;
    // QUIT waits for the replies of every command sent before it.
    await closeRedis(this.redis);
  }

  /** A conditional transition (or claim): `illegal_transition` from a status not in `from` or from which `to` is illegal. */
  private async move(id: string, from: TaskStatus | readonly TaskStatus[], to: TaskStatus, condition: WriteCondition, change: TaskChange): Promise<TaskRecord> {
    const expected: readonly TaskStatus[] = typeof from === 'string' ? [from] : from;
    // Only states from which `to` is a legal move go into the condition.
    const legalFrom = expected.filter((status) => canTransition(status, to));
    const reply = await this.conditionalWrite(id, { ...condition, status: legalFrom }, change, true);
    if (reply[0] === 'ok') return taskFromReply(reply.slice(1))!;
    const status = reply[1];
    if (!expected.includes(status)) {
      throw new LegateError('illegal_transition', `task "${id}" is ${status}, not ${expected.join(' or ')}`, { taskId: id, from: status, to });
    }
    assertTransition(id, status, to);
    throw new LegateError('illegal_transition', `task "${id}" cannot go from ${status} to ${to}`, { taskId: id, from: status, to });
  }

  private async settle(taskId: string, state: 'delivered' | 'missed', fence?: Fence): Promise<SteerRecord[]> {
    const { keys } = this;
    const reply = await this.eval(
      scripts.settleSteersScript,
      [...this.writeKeys(taskId), keys.steers(taskId), keys.queuedSteers(taskId)],
      [...this.writeArgs(), state, String(Date.now()), fence ? JSON.stringify(fence) : ''],
    );
    if (reply === null) throw await this.marker.missing(taskId, notFound(taskId));
    const settled = JSON.parse(reply as string) as SteerRecord[] | WriteReply;
    if (settled[0] === 'fenced') throw fencedError(taskId, fence!, settled as WriteReply);
    return settled as SteerRecord[];
  }

  private query(mode: 'list' | 'count', filter: Omit<TaskFilter, 'limit'>, limit: number): Promise<unknown> {
    const order = filter.sessionId === undefined ? this.keys.tasks : this.keys.sessionTasks(filter.sessionId);
    return this.eval(
      scripts.queryScript,
      [order],
      [
        this.keys.prefix,
        mode,
        String(limit),
        filter.cwd === undefined ? '' : JSON.stringify(filter.cwd),
        filter.status === undefined ? '' : JSON.stringify([...new Set(filter.status)]),
        filter.sessionId === undefined ? '' : '1',
      ],
    );
  }
}
