/**
 * How the Redis task store talks to Redis: one connection, one command per call, and the one
 * conditional write of a task.
 *
 * Order: the store uses one connection and every method sends exactly one command (one EVAL or
 * HGETALL) synchronously when called, after the batched output and checkpoint writes made before
 * it (`redis-write-batch.ts`, sent at the end of the turn at the latest), so calls reach Redis in
 * call order and Redis runs them in that order; after a reconnect ioredis resends unanswered commands before queued ones. Scripts
 * go as FCALL of a function library loaded at open (`redis-functions.ts`: persisted with the data,
 * and a call that finds it missing is failed, never retried out of order), or as EVAL where Redis
 * refuses functions; never EVALSHA, whose cache a restart empties, so that a retried command
 * could overtake a later one. Replays: every write carries this store's writer id and a sequence number
 * (see `scripts/prelude.ts`), so a command applied twice has the effect, and the answer, of one.
 * Nothing here stores credentials: the records carry none.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LegateError, quoted } from '../../../errors.js';
import type { TaskStatus } from '../../status.js';
import type { Fence } from '../../task-record.js';
import { leaseLost } from '../fence.js';
import { storedFormat } from '../stored-shapes.js';
import { type CheckpointStep, outputBufferLines, outputLineChars, patchFields, progressFields } from '../task-store.js';
import { storeError } from './redis-connection.js';
import type { DeploymentMarker } from './redis-deployment.js';
import { functionName, functionsLost, isFunctionMissing, libraryCode } from './redis-functions.js';
import type { RedisKeys } from './redis-keys.js';
import { patchToChange } from './redis-record.js';
import { WriteBatches } from './redis-write-batch.js';
import * as scripts from './scripts/index.js';

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

/** A conditional write's outcome: applied (with the record's field/value pairs when asked), or the status that failed the condition. */
export type WriteReply = ['ok', ...string[]] | ['status', TaskStatus] | ['fenced', TaskStatus, string, string];

/** The connection, writer id and command helpers of a `RedisTaskStore` (its base class). */
export abstract class RedisCommands {
  /** This store's writer id and its last sequence number (see "Replays" in `scripts/prelude.ts`). */
  protected readonly writer = randomUUID();
  protected seq = 0;
  /** A running task's output and checkpoint writes of one turn, sent as one write (`redis-write-batch.ts`). */
  protected readonly batches = new WriteBatches((id, fence, part) =>
    this.conditionalWrite(id, { fence }, { lines: part.lines, at: part.at, fields: part.fields ?? {}, allowed: progressFields, checkpoint: part.checkpoint }),
  );

  protected constructor(
    protected readonly redis: Redis,
    protected readonly url: string,
    readonly keys: RedisKeys,
    protected readonly endedTtlMs: number,
    /** Whether the scripts go as FCALL (the library is loaded) or as EVAL. */
    protected readonly functions: boolean,
    /** Tells a task lost to a Redis restarted empty from one that is not there (`store_reset`). */
    protected readonly marker: DeploymentMarker,
  ) {}

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
        step: JSON.stringify({
          format: storedFormat,
          iteration: change.checkpoint.iteration,
          messages: change.checkpoint.messages,
          ...(change.checkpoint.compaction && { compaction: change.checkpoint.compaction }),
        }),
      }),
      ...(returnRecord && { record: true }),
    };
    const reply = (await this.eval(
      scripts.writeScript,
      [...this.writeKeys(id), keys.output(id), keys.checkpoints(id), keys.ended, ...keys.statusSets],
      // Lines that would be trimmed at once are never sent; all of them are counted.
      [...this.writeArgs(), id, JSON.stringify(condition), JSON.stringify(encoded), String(outputBufferLines), ...(lines ?? []).slice(-outputBufferLines)],
    )) as WriteReply | ['not_found'];
    if (reply[0] === 'not_found') throw await this.marker.missing(id, notFound(id));
    if (reply[0] === 'fenced') throw fencedError(id, condition.fence!, reply);
    return reply;
  }

  /** The KEYS every task write starts with: task, seen, ops, opq. */
  protected writeKeys(id: string): string[] {
    return [this.keys.task(id), this.keys.seen(id), this.keys.taskOps(id), this.keys.taskOpQueue(id)];
  }

  /** The ARGV every task write starts with: writer, its next sequence number, the ended ttl. */
  protected writeArgs(): string[] {
    // Batched writes go first, with the lower numbers: a later number sent first would make them replays.
    this.batches.flush();
    return [this.writer, String(++this.seq), String(this.endedTtlMs)];
  }

  protected async read(id: string, key: string, args: string[]): Promise<string[]> {
    const reply = await this.eval(scripts.readScript, [this.keys.task(id), key], args);
    if (reply === null) throw await this.marker.missing(id, notFound(id));
    return reply as string[];
  }

  /** Sends the script now (in call order), as FCALL when the library is loaded; see the note at the top. */
  protected eval(script: string, keys: string[], args: string[]): Promise<unknown> {
    this.batches.flush();
    const name = this.functions ? functionName(script) : undefined;
    if (name === undefined) return this.command(this.redis.eval(script, keys.length, ...keys, ...args));
    return this.command(this.redis.fcall(name, keys.length, ...keys, ...args));
  }

  protected async command<T>(sent: Promise<T>): Promise<T> {
    try {
      return await sent;
    } catch (error) {
      if (isFunctionMissing(error)) {
        // Not retried (see `redis-functions.ts`): reload now, on this connection, for later calls.
        this.redis.call('FUNCTION', 'LOAD', libraryCode).catch(() => {});
        throw functionsLost(this.url);
      }
      throw storeError(this.url, error);
    }
  }
}

/** HGETALL as ioredis gives it (an object) back to the flat field/value list the scripts return. */
export function flatten(hash: Record<string, string>): string[] {
  return Object.entries(hash).flat();
}

/** The `lease_lost` error of a `['fenced', status, owner, epoch]` refusal. */
export function fencedError(id: string, fence: Fence, reply: WriteReply): LegateError {
  const [, status, owner, epoch] = reply as ['fenced', TaskStatus, string, string];
  return leaseLost(id, fence, { status, owner: owner === '' ? undefined : owner, epoch: Number(epoch) });
}

export function notFound(id: string): LegateError {
  return new LegateError('task_not_found', `no task ${quoted(id)}`, { taskId: id });
}
