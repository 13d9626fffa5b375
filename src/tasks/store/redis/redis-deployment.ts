import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Redis } from 'ioredis';
import { LegateError, quoted } from '../../../errors.js';
import { maskRedisUrl, storeError } from './redis-connection.js';

/**
 * The deployment marker, `<prefix>:deployment`: a random id written once (SET NX) by the first process
 * that opens the prefix. A Redis restarted empty (no AOF: `appendonly no` and no snapshot) loses it with
 * every task, so a process that saw one id and then finds none, or another, knows the store was reset
 * rather than that its tasks were taken or cancelled elsewhere. It says so once (`onReset`) and takes the
 * new id; from then on a task it cannot find is `store_reset`, not `task_not_found`.
 *
 * A process that opens the prefix after the reset learns of it from `seenFile` (in LEGATE_HOME): the id
 * each Redis (URL without password, prefix) had the last time this home opened it.
 */
export class DeploymentMarker {
  /** This process has seen the deployment lose its tasks (at open, from `seenFile`, or since). */
  lost = false;

  private constructor(
    private readonly redis: Redis,
    private readonly url: string,
    private readonly key: string,
    private id: string,
    private readonly onReset: (message: string) => void,
  ) {}

  /** Reads (or writes, for a new prefix) the marker; says so when `seenFile` remembers another id for it. */
  static async open(
    redis: Redis,
    url: string,
    key: string,
    options: { seenFile?: string; onReset?: (message: string) => void } = {},
  ): Promise<DeploymentMarker> {
    const marker = new DeploymentMarker(redis, url, key, await current(redis, url, key), options.onReset ?? (() => {}));
    if (options.seenFile !== undefined) {
      const entry = `${maskRedisUrl(url)} ${key}`;
      const seen = readSeen(options.seenFile);
      if (seen[entry] !== undefined && seen[entry] !== marker.id) marker.reported();
      if (seen[entry] !== marker.id) writeSeen(options.seenFile, { ...seen, [entry]: marker.id });
    }
    return marker;
  }

  /** True when the marker is gone or changed since this process last read it (said once, then the new id is taken). */
  async changed(): Promise<boolean> {
    if ((await sent(this.url, this.redis.get(this.key))) === this.id) return false;
    this.id = await current(this.redis, this.url, this.key);
    this.reported();
    return true;
  }

  /** The error for task `id`, which this store cannot find: `store_reset` once the deployment has lost its tasks. */
  async missing(id: string, notFound: LegateError): Promise<LegateError> {
    if (!(await this.changed()) && !this.lost) return notFound;
    return new LegateError('store_reset', `${this.message()}: no task ${quoted(id)}`, { taskId: id, url: maskRedisUrl(this.url) });
  }

  /** `store_reset` for a listing made across the reset. */
  resetError(): LegateError {
    return new LegateError('store_reset', this.message(), { url: maskRedisUrl(this.url) });
  }

  private message(): string {
    return `the Redis at ${maskRedisUrl(this.url)} has lost this deployment's tasks (restarted without persistence?)`;
  }

  private reported(): void {
    this.lost = true;
    // Once per process and reset, however many stores of this deployment it has open.
    const seen = `${this.key} ${this.id}`;
    if (told.has(seen)) return;
    told.add(seen);
    this.onReset(this.message());
  }
}

/** The resets this process has told of (marker key and the id found after it). */
const told = new Set<string>();

/** The marker's id, written first if there is none. */
async function current(redis: Redis, url: string, key: string): Promise<string> {
  await sent(url, redis.set(key, randomUUID(), 'NX'));
  return (await sent(url, redis.get(key))) ?? '';
}

async function sent<T>(url: string, command: Promise<T>): Promise<T> {
  try {
    return await command;
  } catch (error) {
    throw storeError(url, error);
  }
}

function readSeen(file: string): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
  } catch {
    // Not there yet, or unreadable: nothing remembered.
    return {};
  }
}

function writeSeen(file: string, seen: Record<string, string>): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(seen, null, 2)}\n`, { mode: 0o600 });
  } catch {
    // A read-only home: a reset is then told only by the processes that saw it happen.
  }
}
