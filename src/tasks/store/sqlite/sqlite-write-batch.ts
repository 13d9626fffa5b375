import type { Fence, TaskProgress } from '../../task-record.js';

/** One task's writes waiting for the next group commit: merged, in the order they were made. */
export interface TaskWrites {
  /** The fence every write here was made under (undefined: unfenced). */
  fence: Fence | undefined;
  lines: string[];
  /** The task's line count before `lines`, as the first write's caller counted it (see `OutputWrite.at`). */
  at: number | undefined;
  /** Later fields win, as consecutive updates would. */
  progress: TaskProgress;
  /** Checkpointed steps, their messages (and compaction record) already JSON. */
  checkpoints: Array<{ step: number; iteration: number; messages: string; compaction: string | null }>;
  /** The callers waiting for these writes to commit. */
  waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }>;
}

/**
 * Write-behind for a running task's hot path (output lines, progress, checkpoints): calls made in
 * one turn of the event loop are merged per task and committed together in one transaction on the
 * next turn (`setImmediate`), instead of one transaction each. Each call's promise settles when its
 * write has committed (or failed), so a caller that awaits it has the same guarantee as before;
 * the store flushes the batch before an operation that reads or moves a task with writes waiting,
 * so every read sees every write and a transition lands after the writes made before it.
 */
export class WriteBatch {
  private pending = new Map<string, TaskWrites>();
  private scheduled: NodeJS.Immediate | undefined;
  private openedAt = 0;

  /**
   * `commit` writes a batch in one transaction and returns the tasks whose writes could not apply
   * (with the reason, e.g. an unknown id), having written nothing for them; when it throws (nothing
   * written), each task's writes are tried again alone.
   */
  constructor(
    private readonly commit: (writes: Map<string, TaskWrites>) => Map<string, unknown>,
    /** The longest a write waits for its commit while the turn goes on (see `add`). */
    private readonly maxDelayMs = 2,
  ) {}

  /** Queue `add`'s writes for `taskId` under `fence`; resolves once they are committed. */
  add(taskId: string, add: (writes: TaskWrites) => void, fence?: Fence): Promise<void> {
    let writes = this.pending.get(taskId);
    // Writes under another fence (a takeover within this process) never merge with these: commit first.
    if (writes && (writes.fence?.owner !== fence?.owner || writes.fence?.epoch !== fence?.epoch)) {
      this.flush();
      writes = undefined;
    }
    if (!writes) {
      writes = { fence, lines: [], at: undefined, progress: {}, checkpoints: [], waiters: [] };
      this.pending.set(taskId, writes);
    }
    add(writes);
    const target = writes;
    const promise = new Promise<void>((resolve, reject) => target.waiters.push({ resolve, reject }));
    if (!this.scheduled) {
      this.openedAt = performance.now();
      this.scheduled = setImmediate(() => this.flush());
    } else if (performance.now() - this.openedAt >= this.maxDelayMs) {
      // A long turn (a burst of replies, a GC) would hold every waiting task: commit now.
      this.flush();
    }
    return promise;
  }

  /** Whether writes of `taskId` are waiting. */
  has(taskId: string): boolean {
    return this.pending.has(taskId);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Commit everything queued now, synchronously. Never throws: a failure rejects the waiters. */
  flush(): void {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    // A failed commit wrote nothing: then each task's writes are committed on their own, so one
    // task's failure (a full disk aside) does not cost the others theirs.
    let refused: Map<string, unknown>;
    try {
      refused = this.commit(batch);
    } catch (error) {
      if (batch.size === 1) refused = new Map([[batch.keys().next().value!, error]]);
      else refused = this.commitEach(batch);
    }
    for (const [taskId, writes] of batch) {
      const error = refused.get(taskId);
      for (const waiter of writes.waiters) {
        if (error === undefined) waiter.resolve();
        else waiter.reject(error);
      }
    }
  }

  private commitEach(batch: Map<string, TaskWrites>): Map<string, unknown> {
    const refused = new Map<string, unknown>();
    for (const [taskId, writes] of batch) {
      try {
        for (const [id, error] of this.commit(new Map([[taskId, writes]]))) refused.set(id, error);
      } catch (error) {
        refused.set(taskId, error);
      }
    }
    return refused;
  }
}
