/**
 * A TaskStore in Redis (≥ 7), shared by every legate process of a deployment, on any machine.
 *
 * Key layout, everything under `<prefix>:` (`tasks.redis_prefix`, default `legate`):
 *   schema                      string   layout version (1)
 *   tasks                       zset     every task id, score createdAt (list order)
 *   session-tasks:<sessionId>   zset     that session's task ids, score createdAt
 *   status:<status>             set      task ids in that status (one set per status)
 *   ended                       zset     ended task ids with an endedAt, score endedAt (prune)
 *   task:<id>                   hash     the record: one field per record field, value JSON
 *   output:<id>                 list     the last `outputBufferLines` output lines
 *   checkpoints:<id>            hash     step number → {format, iteration, messages} (JSON); expires when the task ends
 *   steers:<id>                 hash     steer id → steer record (JSON)
 *   steers-queued:<id>          list     ids of the queued steers, oldest first
 *   steer-seq                   string   last steer id given out
 *   seen:<id>                   hash     writer → last sequence number applied (replays)
 *   ops:<id> / opq:<id>         hash / list  kept answers of the task's refused or data-carrying writes
 *   ops / opq                   hash / list  kept answers of recent prunes, by op id
 *   session:<id>                hash     a session: id, cwd, createdAt, updatedAt, messages (JSON)
 *   sessions                    zset     session ids, score updatedAt
 *
 * Order: the store uses one connection and every method sends exactly one command (one EVAL or
 * HGETALL) synchronously when called, so calls reach Redis in call order and Redis runs them in
 * that order; after a reconnect ioredis resends unanswered commands before queued ones. Scripts
 * go as EVAL, not EVALSHA: a script cache emptied by a restart can never make a retried command
 * overtake a later one. Replays: every write carries this store's writer id and a sequence number
 * (see `redis-scripts.ts`), so a command applied twice has the effect, and the answer, of one.
 * Nothing here stores credentials: the records carry none.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LegateError } from '../../../errors.js';
import { assertTransition, canTransition, isTerminal, type TaskStatus } from '../../status.js';
import type { Fence, SessionRecord, SteerRecord, StoredApprovalAnswer, TaskProgress, TaskRecord } from '../../task-record.js';
import { assertTransitionArguments, notWaiting, withApprovalRule } from '../approval-rules.js';
import { leaseLost } from '../fence.js';
import { storedFormat } from '../stored-shapes.js';
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
} from '../task-store.js';
import { answerApprovalScript } from './redis-approval-script.js';
import { connectRedis, maskRedisUrl, type RedisConnectionOptions, storeError } from './redis-connection.js';
import { defaultRedisPrefix, RedisKeys } from './redis-keys.js';
import { checkpointFromReply, patchToChange, recordToFields, sessionFromReply, steersFromReply, taskFromReply } from './redis-record.js';
import * as scripts from './redis-scripts.js';

/** The key layout version this code writes. */
export const redisSchemaVersion = 2;

/**
 * What a conditional write requires of the task. `status`: one of these; `fence`: running under
 * that owner and epoch (absent epoch = 0). An absent part is not checked.
 */
export interface WriteCondition {
  status?: readonly TaskStatus[];
  fence?: Fence;
}

/** What one conditional write changes, all together. */
export interface TaskChange {
  status?: TaskStatus;
  /** Record fields; a field present as `undefined` is cleared. Filtered to `allowed`. */
  fields?: object;
  allowed?: ReadonlySet<string>;
  /** Add 1 to `epoch` (a claim). */
  epoch?: boolean;
  lines?: string[];
  /** The task's `outputLines` before `lines`, as the writer counts them (see `OutputWrite.at`). */
  at?: number;
  checkpoint?: CheckpointStep;
}

export interface RedisTaskStoreOptions extends RedisConnectionOptions {
  url: string;
  /** `tasks.redis_prefix`; default `legate`. */
  prefix?: string;
  /** How long an ended task's checkpoints (and replay log) stay; default 10 minutes. */
  endedTtlMs?: number;
}

/** A conditional write's outcome: applied (with the record's field/value pairs when asked), or the status that failed the condition. */
export type WriteReply = ['ok', ...string[]] | ['status', TaskStatus] | ['fenced', TaskStatus, string, string];

/**
 * The TaskStore of shared mode (layout and guarantees above; design note: docs/redis-store.md).
 * Never throws for a reachable Redis except as the interface says; an unreachable one gives
 * `store_unavailable`.
 */
export class RedisTaskStore implements TaskStore {
  /** This store's writer id and its last sequence number (see "Replays" in `redis-scripts.ts`). */
  private readonly writer = randomUUID();
  private seq = 0;

  private constructor(
    private readonly redis: Redis,
    private readonly url: string,
    readonly keys: RedisKeys,
    private readonly endedTtlMs: number,
  ) {}

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
    const store = new RedisTaskStore(redis, options.url, keys, options.endedTtlMs ?? 10 * 60_000);
    try {
      // A Redis whose ACL refuses INFO is not checked.
      const memory = await store.command(redis.info('memory')).catch((error: unknown) => {
        if (error instanceof LegateError) throw error;
        return '';
      });
      const limit = Number(/^maxmemory:(\d+)/m.exec(memory)?.[1] ?? 0);
      const policy = /^maxmemory_policy:(\S+)/m.exec(memory)?.[1] ?? 'noeviction';
      if (limit > 0 && policy !== 'noeviction') {
        throw new LegateError(
          'config_invalid',
          `the Redis at ${maskRedisUrl(options.url)} may evict keys (maxmemory ${limit}, maxmemory-policy ${policy})` +
            `: the task store needs maxmemory-policy noeviction`,
          { policy },
        );
      }
      await store.command(redis.set(keys.schema, String(redisSchemaVersion), 'NX'));
      let version = Number(await store.command(redis.get(keys.schema)));
      if (version === 1)
        version = Number(await store.eval(scripts.migrate1to2Script, [keys.schema, keys.tasks, keys.sessions], [keys.prefix, String(storedFormat)]));
      if (version > redisSchemaVersion) {
        throw new LegateError(
          'store_too_new',
          `the Redis keys under "${keys.prefix}" were written by a newer legate (layout ${version}; this one knows ${redisSchemaVersion})`,
          { prefix: keys.prefix, version },
        );
      }
    } catch (error) {
      redis.disconnect();
      throw error;
    }
    return store;
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

  async get(id: string): Promise<TaskRecord | undefined> {
    return taskFromReply(await this.command(this.redis.hgetall(this.keys.task(id)).then(flatten)));
  }

  async list(filter: TaskFilter = {}): Promise<TaskRecord[]> {
    const limit = filter.limit ?? 100;
    if (limit <= 0 || filter.status?.length === 0) return [];
    const reply = (await this.query('list', filter, limit)) as string[][];
    return reply.map((fields) => taskFromReply(fields)!);
  }

  async count(filter: Omit<TaskFilter, 'limit'> = {}): Promise<number> {
    if (filter.status?.length === 0) return 0;
    if (filter.cwd === undefined && filter.status === undefined) {
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
    const reply = (await this.eval(answerApprovalScript, [this.keys.task(id)], [requestId, JSON.stringify(answer)])) as string[];
    if (reply[0] === 'not_found') throw notFound(id);
    if (reply[0] === 'status') throw notWaiting(id, reply[1] as TaskStatus);
    if (reply[0] === 'other') throw notWaiting(id, 'input_required', `it waits on request ${reply[1]}, not ${requestId}`);
    return taskFromReply(reply.slice(1))!;
  }

  async update(id: string, progress: TaskProgress, fence?: Fence): Promise<void> {
    await this.conditionalWrite(id, { fence }, { fields: progress, allowed: progressFields });
  }

  async heartbeat(owner: string, leaseExpiresAt: number): Promise<Array<Fence & { id: string }>> {
    const reply = (await this.eval(
      scripts.heartbeatScript,
      [this.keys.status('running'), this.keys.status('input_required')],
      [this.keys.prefix, JSON.stringify(owner), JSON.stringify(leaseExpiresAt)],
    )) as string[];
    const held: Array<Fence & { id: string }> = [];
    for (let index = 0; index < reply.length; index += 2) held.push({ id: reply[index]!, owner, epoch: Number(reply[index + 1]) });
    return held;
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
    await this.conditionalWrite(id, { fence }, { lines: write.lines, at: write.at, fields: write.progress ?? {}, allowed: progressFields });
  }

  async readOutput(id: string, last?: number): Promise<string[]> {
    if (last !== undefined && last <= 0) {
      await this.read(id, this.keys.output(id), ['list', '1']);
      return [];
    }
    return this.read(id, this.keys.output(id), ['list', last === undefined ? '' : String(last)]);
  }

  async appendCheckpoint(id: string, step: CheckpointStep, fence?: Fence): Promise<void> {
    await this.conditionalWrite(id, { fence }, { checkpoint: step });
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
    if (reply === null) throw notFound(taskId);
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

  async saveSession(session: SessionRecord): Promise<void> {
    await this.eval(
      scripts.saveSessionScript,
      [this.keys.session(session.id), this.keys.sessions],
      [
        session.id,
        String(session.updatedAt),
        JSON.stringify(session.id),
        JSON.stringify(session.cwd),
        JSON.stringify(session.createdAt),
        JSON.stringify(session.updatedAt),
        JSON.stringify(session.messages),
        JSON.stringify(storedFormat),
      ],
    );
  }

  async loadSession(id: string): Promise<SessionRecord | undefined> {
    return sessionFromReply(await this.command(this.redis.hgetall(this.keys.session(id)).then(flatten)));
  }

  async listSessions(filter: { cwd?: string; limit?: number } = {}): Promise<SessionRecord[]> {
    const limit = filter.limit ?? 20;
    if (limit <= 0) return [];
    const reply = (await this.eval(
      scripts.listSessionsScript,
      [this.keys.sessions],
      [this.keys.prefix, filter.cwd === undefined ? '' : JSON.stringify(filter.cwd), String(limit)],
    )) as string[][];
    return reply.map((fields) => sessionFromReply(fields)!);
  }

  async close(): Promise<void> {
    if (this.redis.status === 'end') return;
    // QUIT waits for the replies of every command sent before it.
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /**
   * The one conditional write of a task (see `writeScript`): applies `change` only if the task
   * meets `condition`. Resolves with the script's reply when it applied or the condition failed
   * (`['status', current]`); rejects `task_not_found`, and `lease_lost` when `condition.fence`
   * does not hold.
   */
  async conditionalWrite(id: string, condition: WriteCondition, change: TaskChange, returnRecord = false): Promise<WriteReply> {
    const { keys } = this;
    const lines = change.lines?.map((line) => (line.length > outputLineChars ? line.slice(0, outputLineChars) : line));
    const fields = change.fields ? patchToChange(change.fields, change.allowed ?? patchFields) : undefined;
    const encoded = {
      ...(change.status !== undefined && { status: change.status }),
      ...(fields && Object.keys(fields.set).length > 0 && { set: fields.set }),
      ...(fields && fields.unset.length > 0 && { unset: fields.unset }),
      ...(change.epoch && { epoch: true }),
      ...(lines && lines.length > 0 && { count: lines.length }),
      ...(lines && lines.length > 0 && change.at !== undefined && { at: change.at }),
      ...(change.checkpoint && {
        stepNo: String(change.checkpoint.step),
        step: JSON.stringify({ format: storedFormat, iteration: change.checkpoint.iteration, messages: change.checkpoint.messages }),
      }),
      ...(returnRecord && { record: true }),
    };
    const reply = (await this.eval(
      scripts.writeScript,
      [...this.writeKeys(id), keys.output(id), keys.checkpoints(id), keys.ended, ...keys.statusSets],
      // Lines that would be trimmed at once are never sent; all of them are counted.
      [...this.writeArgs(), id, JSON.stringify(condition), JSON.stringify(encoded), String(outputBufferLines), ...(lines ?? []).slice(-outputBufferLines)],
    )) as WriteReply | ['not_found'];
    if (reply[0] === 'not_found') throw notFound(id);
    if (reply[0] === 'fenced') throw fencedError(id, condition.fence!, reply);
    return reply;
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
    if (reply === null) throw notFound(taskId);
    const settled = JSON.parse(reply as string) as SteerRecord[] | WriteReply;
    if (settled[0] === 'fenced') throw fencedError(taskId, fence!, settled as WriteReply);
    return settled as SteerRecord[];
  }

  /** The KEYS every task write starts with: task, seen, ops, opq. */
  private writeKeys(id: string): string[] {
    return [this.keys.task(id), this.keys.seen(id), this.keys.taskOps(id), this.keys.taskOpQueue(id)];
  }

  /** The ARGV every task write starts with: writer, its next sequence number, the ended ttl. */
  private writeArgs(): string[] {
    return [this.writer, String(++this.seq), String(this.endedTtlMs)];
  }

  private async read(id: string, key: string, args: string[]): Promise<string[]> {
    const reply = await this.eval(scripts.readScript, [this.keys.task(id), key], args);
    if (reply === null) throw notFound(id);
    return reply as string[];
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

  /** Sends the script now (in call order); see the note at the top on EVAL. */
  private eval(script: string, keys: string[], args: string[]): Promise<unknown> {
    return this.command(this.redis.eval(script, keys.length, ...keys, ...args));
  }

  private async command<T>(sent: Promise<T>): Promise<T> {
    try {
      return await sent;
    } catch (error) {
      throw storeError(this.url, error);
    }
  }
}

/** HGETALL as ioredis gives it (an object) back to the flat field/value list the scripts return. */
function flatten(hash: Record<string, string>): string[] {
  return Object.entries(hash).flat();
}

/** The `lease_lost` error of a `['fenced', status, owner, epoch]` refusal. */
function fencedError(id: string, fence: Fence, reply: WriteReply): LegateError {
  const [, status, owner, epoch] = reply as ['fenced', TaskStatus, string, string];
  return leaseLost(id, fence, { status, owner: owner === '' ? undefined : owner, epoch: Number(epoch) });
}

function notFound(id: string): LegateError {
  return new LegateError('task_not_found', `no task "${id}"`, { taskId: id });
}
