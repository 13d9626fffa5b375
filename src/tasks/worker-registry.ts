/**
 * Where workers say they are alive (shared mode), so that the dashboard can list them with their
 * concurrency even while they hold no task. A worker announces itself when it starts and at each
 * heartbeat, and leaves when it stops; one that stops announcing is dead. Only the list of workers
 * lives here: which tasks a worker holds is read from the tasks' owners.
 */
export interface WorkerInfo {
  /** The worker's owner id (`host:pid:nonce:machine`): the `owner` of the tasks it runs. */
  id: string;
  host: string;
  /** Tasks it runs at once. */
  concurrency: number;
  startedAt: number;
  /** Epoch ms of its last announcement. */
  heartbeatAt: number;
}

export interface WorkerRegistry {
  /** Create or refresh the worker's entry (its heartbeat). */
  announce(worker: WorkerInfo): Promise<void>;
  /** The worker stopped cleanly: remove its entry. */
  leave(id: string): Promise<void>;
  /** Every entry, dead ones included (entries silent for longer than a day are dropped). */
  list(): Promise<WorkerInfo[]>;
  close(): Promise<void>;
}

/** How often a worker announces itself, ms; one silent for `workerDeadAfterMs` is dead. */
export const workerHeartbeatMs = 2_000;
export const workerDeadAfterMs = 10_000;
