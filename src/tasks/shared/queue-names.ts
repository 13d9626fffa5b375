/**
 * Names in BullMQ for shared mode. One queue per task depth (`tasks-depth-1`, `tasks-depth-2` …):
 * a child that waits on its own children holds a slot of its depth's queue only, never one its
 * children need, so no depth can starve the next. Queues live under the deployment's key prefix
 * (`tasks.redis_prefix`): `<prefix>:tasks-depth-1:…`, beside the task store's keys.
 */

/** The queue of the tasks at `depth` (BullMQ queue names may not contain `:`). */
export function queueName(depth: number): string {
  return `tasks-depth-${depth}`;
}

/**
 * The job that runs a task waiting to be claimed under `epoch` (its claims so far). A resumed task
 * has a higher epoch, so a new id (BullMQ silently ignores adding an id that exists); adding the
 * same waiting task twice (two processes noticing it) makes one job. Task ids hold no `:`.
 */
export function jobIdFor(taskId: string, epoch: number): string {
  return `${taskId}-e${epoch}`;
}

/** The task a job id belongs to. */
export function taskIdOfJob(jobId: string): string {
  const at = jobId.lastIndexOf('-e');
  return at < 0 ? jobId : jobId.slice(0, at);
}

/** What a job carries: only the task id. Everything else (and never a credential) is in the store. */
export interface TaskJobData {
  taskId: string;
}

/** The Pub/Sub channel on which every process says which task just ended. */
export function endsChannel(prefix: string): string {
  return `${prefix}:task-ends`;
}
