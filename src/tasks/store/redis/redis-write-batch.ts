import type { Fence } from '../../task-record.js';
import type { CheckpointStep } from '../task-store.js';

/** One part of a running task's hot path: output lines and progress, or a checkpoint step. */
export interface BatchedPart {
  lines?: string[];
  /** The task's `outputLines` before `lines` (see `OutputWrite.at`). */
  at?: number;
  fields?: Record<string, unknown>;
  checkpoint?: CheckpointStep;
}

interface Batch {
  fence: Fence | undefined;
  lines: string[];
  at: number | undefined;
  fields: Record<string, unknown>;
  checkpoint: CheckpointStep | undefined;
  waiters: { resolve(): void; reject(error: unknown): void }[];
}

/**
 * The output and checkpoint writes a task makes in one turn of the event loop (a reply's usage and
 * its checkpoint; a tool's result and the checkpoint after it), sent as one conditional write:
 * one FCALL instead of one per call, all applied together or none. They wait at most until the
 * end of the turn (`process.nextTick`), and every other command of the store sends them first
 * (`flush`), so calls still reach Redis in call order, as the SQLite store's group commit does.
 * A part joins its task's batch when the fence is the same, it holds no second checkpoint step,
 * and its lines follow the batch's; otherwise the batch is sent and a new one started. Each call
 * settles with its batch's write: a refusal (`lease_lost`) or failure rejects every call in it.
 */
export class WriteBatches {
  private readonly batches = new Map<string, Batch>();
  private scheduled = false;

  constructor(private readonly send: (id: string, fence: Fence | undefined, part: BatchedPart) => Promise<unknown>) {}

  add(id: string, fence: Fence | undefined, part: BatchedPart): Promise<void> {
    let batch = this.batches.get(id);
    if (batch && !joins(batch, fence, part)) {
      this.sendBatch(id, batch);
      batch = undefined;
    }
    if (!batch) {
      batch = { fence, lines: [], at: undefined, fields: {}, checkpoint: undefined, waiters: [] };
      this.batches.set(id, batch);
    }
    if (part.lines && part.lines.length > 0) {
      if (batch.lines.length === 0) batch.at = part.at;
      batch.lines.push(...part.lines);
    }
    if (part.fields) Object.assign(batch.fields, part.fields);
    if (part.checkpoint) batch.checkpoint = part.checkpoint;
    const settled = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(() => this.flush());
    }
    return settled;
  }

  /** Sends every pending batch now (before any other command of the store). */
  flush(): void {
    this.scheduled = false;
    if (this.batches.size === 0) return;
    const pending = [...this.batches];
    this.batches.clear();
    for (const [id, batch] of pending) this.sendBatch(id, batch);
  }

  private sendBatch(id: string, batch: Batch): void {
    if (this.batches.get(id) === batch) this.batches.delete(id);
    const { lines, fields, at, checkpoint } = batch;
    this.send(id, batch.fence, { lines, fields, ...(at !== undefined && { at }), ...(checkpoint && { checkpoint }) }).then(
      () => {
        for (const waiter of batch.waiters) waiter.resolve();
      },
      (error: unknown) => {
        for (const waiter of batch.waiters) waiter.reject(error);
      },
    );
  }
}

function joins(batch: Batch, fence: Fence | undefined, part: BatchedPart): boolean {
  if (batch.fence?.owner !== fence?.owner || batch.fence?.epoch !== fence?.epoch) return false;
  // The write function takes one checkpoint step.
  if (part.checkpoint && batch.checkpoint) return false;
  if (part.lines && part.lines.length > 0 && batch.lines.length > 0) {
    if (part.at === undefined || batch.at === undefined || part.at !== batch.at + batch.lines.length) return false;
  }
  return true;
}
