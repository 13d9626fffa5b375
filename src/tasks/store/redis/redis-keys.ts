import { LegateError } from '../../../errors.js';
import { type TaskStatus, taskStatuses } from '../../status.js';

/** The prefix used when `tasks.redis_prefix` is not set. */
export const defaultRedisPrefix = 'legate';

/**
 * Key layout, everything under `<prefix>:` (`tasks.redis_prefix`, default `legate`):
 *   schema                      string   layout version (`redisSchemaVersion`)
 *   deployment                  string   a random id written once: gone or changed = the Redis lost the tasks (redis-deployment.ts)
 *   tasks                       zset     every task id, score createdAt (list order)
 *   session-tasks:<sessionId>   zset     that session's task ids, score createdAt
 *   status:<status>             set      task ids in that status (one set per status)
 *   ended                       zset     ended task ids with an endedAt, score endedAt (prune)
 *   task:<id>                   hash     the record: one field per record field, value JSON
 *   output:<id>                 list     the last `outputBufferLines` output lines
 *   checkpoints:<id>            hash     step number → {format, iteration, messages, compaction?} (JSON); expires when the task ends
 *   steers:<id>                 hash     steer id → steer record (JSON)
 *   steers-queued:<id>          list     ids of the queued steers, oldest first
 *   steer-seq                   string   last steer id given out
 *   seen:<id>                   hash     writer → last sequence number applied (replays)
 *   ops:<id> / opq:<id>         hash / list  kept answers of the task's refused or data-carrying writes
 *   ops / opq                   hash / list  kept answers of recent prunes, by op id
 *   held:<owner>                set      ids of the tasks that owner holds (running or input_required; layout 3)
 *   session:<id>                hash     a session: id, cwd, createdAt, updatedAt, messages, compaction? (JSON)
 *   sessions                    zset     session ids, score updatedAt
 *
 * `RedisKeys` names every key of one deployment. A variable part (a task, session or owner id)
 * always comes last, so no id can make one key look like another.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {
    // No ':' in the prefix: "legate" and "legate:task" would otherwise share keys. Braces are
    // allowed so that a cluster hash tag (`{legate}`) can keep a deployment on one slot.
    if (!/^[A-Za-z0-9_.{}-]+$/.test(prefix)) {
      throw new LegateError('config_invalid', `tasks.redis_prefix must be letters, digits, "_", ".", "-", "{" or "}" (got "${prefix}")`, { prefix });
    }
  }

  /** String: the layout version this deployment's keys were written with. */
  get schema(): string {
    return `${this.prefix}:schema`;
  }
  /** String: the deployment marker, a random id written once (see `DeploymentMarker`). */
  get deployment(): string {
    return `${this.prefix}:deployment`;
  }
  /** Sorted set: every task id, scored by createdAt (list order). */
  get tasks(): string {
    return `${this.prefix}:tasks`;
  }
  /** Sorted set: ended tasks that have an endedAt, scored by it (what prune walks). */
  get ended(): string {
    return `${this.prefix}:ended`;
  }
  /** String counter: the last steer id given out. */
  get steerSeq(): string {
    return `${this.prefix}:steer-seq`;
  }
  /** Sorted set: session ids scored by updatedAt. */
  get sessions(): string {
    return `${this.prefix}:sessions`;
  }
  /** Hash + list: answers of recent prunes by op id, for replays. */
  get ops(): string {
    return `${this.prefix}:ops`;
  }
  get opQueue(): string {
    return `${this.prefix}:opq`;
  }
  /** Set: the ids of the tasks in `status`. */
  status(status: TaskStatus): string {
    return `${this.prefix}:status:${status}`;
  }
  /** The status sets (seven), in `taskStatuses` order (scripts take them all as KEYS). */
  get statusSets(): string[] {
    return taskStatuses.map((status) => this.status(status));
  }
  /** Sorted set: the ids of one session's tasks, scored by createdAt. */
  sessionTasks(sessionId: string): string {
    return `${this.prefix}:session-tasks:${sessionId}`;
  }
  /** Hash: the task record, one field per record field, each value JSON. */
  task(id: string): string {
    return `${this.prefix}:task:${id}`;
  }
  /** List: the last output lines. */
  output(id: string): string {
    return `${this.prefix}:output:${id}`;
  }
  /** List: the checkpointed steps, each `{iteration, messages}` as JSON, in order. */
  checkpoints(id: string): string {
    return `${this.prefix}:checkpoints:${id}`;
  }
  /** Hash: steer id → steer record (JSON). */
  steers(id: string): string {
    return `${this.prefix}:steers:${id}`;
  }
  /** List: ids of the task's queued steers, oldest first. */
  queuedSteers(id: string): string {
    return `${this.prefix}:steers-queued:${id}`;
  }
  /** Hash: writer → the last sequence number of that writer applied to the task. */
  seen(id: string): string {
    return `${this.prefix}:seen:${id}`;
  }
  /** Hash + list: kept answers (refusals, steers) of the task's writes by `writer:seq`, oldest first in the list. */
  taskOps(id: string): string {
    return `${this.prefix}:ops:${id}`;
  }
  taskOpQueue(id: string): string {
    return `${this.prefix}:opq:${id}`;
  }
  /** Set: the ids of the tasks `owner` holds (running or input_required), what its heartbeat renews. */
  held(owner: string): string {
    return `${this.prefix}:held:${owner}`;
  }
  /** Hash: a session (id, cwd, createdAt, updatedAt, messages), each value JSON. */
  session(id: string): string {
    return `${this.prefix}:session:${id}`;
  }
}
