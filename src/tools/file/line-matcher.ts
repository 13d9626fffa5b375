import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** How long one file's matching may take before the pattern is given up as too slow. */
export const defaultMatchBudgetMs = 10_000;

/** A matching line: its 0-based index and its text. */
export type LineMatch = [index: number, line: string];

/**
 * The worker's code (CommonJS, run with `eval` so it works the same from `src/` and `dist/`): split
 * the text into lines and return those the pattern matches, at most `limit`.
 */
const workerSource = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ pattern, text, limit }) => {
  try {
    const regex = new RegExp(pattern);
    const lines = text.split(/\\r?\\n/);
    const matches = [];
    for (let index = 0; index < lines.length && matches.length < limit; index += 1) {
      if (regex.test(lines[index])) matches.push([index, lines[index]]);
    }
    parentPort.postMessage({ matches });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message) });
  }
});`;

interface Job {
  pattern: string;
  text: string;
  limit: number;
  signal: AbortSignal;
  budgetMs: number;
  resolve(matches: LineMatch[]): void;
  reject(error: Error): void;
  /** While queued: takes the job out of the queue when its signal aborts. */
  onQueuedAbort?: () => void;
}

/**
 * Runs regular expressions over file text on worker threads, so a pattern that backtracks
 * catastrophically costs one worker, never the event loop every task shares: the job is abandoned
 * (and its worker replaced) when the caller's signal aborts or the budget runs out. A small pool
 * (up to two workers) serves every search of the process, started on first use; idle workers do
 * not keep the process alive.
 */
export class LineMatcher {
  private readonly idle = new Set<Worker>();
  private readonly queue: Job[] = [];
  /** Stops the job running on each busy worker (close uses it). */
  private readonly busy = new Map<Worker, () => void>();

  constructor(private readonly size = Math.max(1, Math.min(2, availableParallelism()))) {}

  /** Lines of `text` that `pattern` matches, at most `limit`. Rejects on abort or when over budget. */
  match(pattern: string, text: string, limit: number, signal: AbortSignal, budgetMs = defaultMatchBudgetMs): Promise<LineMatch[]> {
    if (signal.aborted) return Promise.reject(new Error('search cancelled'));
    return new Promise((resolve, reject) => {
      const job: Job = { pattern, text, limit, signal, budgetMs, resolve, reject };
      job.onQueuedAbort = () => {
        const index = this.queue.indexOf(job);
        if (index >= 0) this.queue.splice(index, 1);
        reject(new Error('search cancelled'));
      };
      signal.addEventListener('abort', job.onQueuedAbort, { once: true });
      this.queue.push(job);
      this.next();
    });
  }

  /** Stops every worker (tests, shutdown). Queued and running jobs are rejected. */
  async close(): Promise<void> {
    for (const job of this.queue.splice(0)) {
      job.signal.removeEventListener('abort', job.onQueuedAbort!);
      job.reject(new Error('search cancelled'));
    }
    for (const stop of [...this.busy.values()]) stop();
    const idle = [...this.idle];
    this.idle.clear();
    await Promise.all(idle.map((worker) => worker.terminate()));
  }

  private next(): void {
    while (this.busy.size < this.size && this.queue.length > 0) {
      const job = this.queue.shift()!;
      job.signal.removeEventListener('abort', job.onQueuedAbort!);
      const [worker] = this.idle;
      if (worker) this.idle.delete(worker);
      this.run(job, worker ?? this.spawn());
    }
  }

  private spawn(): Worker {
    const worker = new Worker(workerSource, { eval: true });
    worker.unref();
    // An idle worker that dies is not handed another job.
    worker.on('exit', () => this.idle.delete(worker));
    worker.on('error', () => this.idle.delete(worker));
    return worker;
  }

  private run(job: Job, worker: Worker): void {
    worker.ref();
    let settled = false;
    const finish = (outcome: { matches: LineMatch[] } | { error: Error }, reusable: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      job.signal.removeEventListener('abort', onAbort);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      this.busy.delete(worker);
      if (reusable) {
        worker.unref();
        this.idle.add(worker);
      } else {
        void worker.terminate();
      }
      if ('matches' in outcome) job.resolve(outcome.matches);
      else job.reject(outcome.error);
      this.next();
    };
    const onAbort = (): void => finish({ error: new Error('search cancelled') }, false);
    const timer = setTimeout(
      () =>
        finish(
          { error: new Error(`matching took over ${job.budgetMs / 1000} s (catastrophic backtracking?); simplify the pattern or narrow the search`) },
          false,
        ),
      job.budgetMs,
    );
    const onMessage = (reply: { matches?: LineMatch[]; error?: string }): void =>
      finish(reply.matches ? { matches: reply.matches } : { error: new Error(reply.error ?? 'matching failed') }, true);
    const onError = (error: Error): void => finish({ error }, false);
    const onExit = (code: number): void => finish({ error: new Error(`the matching worker stopped (exit code ${code})`) }, false);
    this.busy.set(worker, onAbort);
    job.signal.addEventListener('abort', onAbort, { once: true });
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    worker.postMessage({ pattern: job.pattern, text: job.text, limit: job.limit });
  }
}

/** The process's matcher, shared by every search. */
export const lineMatcher = new LineMatcher();
