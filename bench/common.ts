import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelServerOptions, ModelServerStats } from './model-server.js';

/** Shared pieces of the bench workers: the model server process, memory sampling, statistics. */

export const benchModel = 'bench-model';
export const benchKey = 'sk-bench-0000000000000001';

export interface ModelServerHandle {
  url: string;
  openaiBaseUrl: string;
  stats(): Promise<ModelServerStats>;
  /** Forget the requests so far (after a warm-up). */
  reset(): void;
  close(): Promise<void>;
}

/** Forks `model-server.js` (without this process's profiling flags) and waits until it listens. */
export function startModelServer(options: ModelServerOptions): Promise<ModelServerHandle> {
  const child = fork(new URL('./model-server.js', import.meta.url), [JSON.stringify(options)], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`model server exited (${code}) before listening`)));
    child.on('message', function ready(message: { type: string; url?: string }) {
      if (message.type !== 'ready' || !message.url) return;
      child.off('message', ready);
      child.removeAllListeners('exit');
      const url = message.url;
      resolve({
        url,
        openaiBaseUrl: `${url}/v1`,
        stats: () =>
          new Promise((resolveStats) => {
            child.on('message', function answer(reply: { type: string; stats?: ModelServerStats }) {
              if (reply.type !== 'stats' || !reply.stats) return;
              child.off('message', answer);
              resolveStats(reply.stats);
            });
            child.send({ type: 'stats' });
          }),
        reset: () => void child.send({ type: 'reset' }),
        close: () =>
          new Promise((resolveClose) => {
            if (child.exitCode !== null) return resolveClose();
            child.once('exit', () => resolveClose());
            child.send({ type: 'close' });
          }),
      });
    });
  });
}

/** A scratch directory with a few tiny files for `list_dir`; removed by `dispose`. */
export function scratchDir(): { dir: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'legate-bench-'));
  for (const name of ['a.txt', 'b.txt', 'c.txt']) writeFileSync(join(dir, name), `${name}\n`);
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Samples RSS and heap while running; the peak also takes the kernel's high-water mark. */
export class MemorySampler {
  private timer: NodeJS.Timeout | undefined;
  peakRss = 0;
  peakHeapUsed = 0;

  start(intervalMs = 10): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): { peakRss: number; peakHeapUsed: number } {
    clearInterval(this.timer);
    this.sample();
    // maxRSS is in KiB and covers moments between samples.
    this.peakRss = Math.max(this.peakRss, process.resourceUsage().maxRSS * 1024);
    return { peakRss: this.peakRss, peakHeapUsed: this.peakHeapUsed };
  }

  private samples = 0;

  /** RSS every tick (cheap); the heap every 5th (process.memoryUsage() walks every heap space). */
  private sample(): void {
    this.peakRss = Math.max(this.peakRss, process.memoryUsage.rss());
    if (this.samples++ % 5 === 0) this.peakHeapUsed = Math.max(this.peakHeapUsed, process.memoryUsage().heapUsed);
  }
}

/** Collect garbage (when run with --expose-gc) so a baseline is not inflated by setup garbage. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
}

export interface Summary {
  count: number;
  median: number;
  p99: number;
  mean: number;
  max: number;
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  const sum = sorted.reduce((total, value) => total + value, 0);
  return { count: sorted.length, median: at(0.5), p99: at(0.99), mean: sorted.length ? sum / sorted.length : 0, max: sorted.at(-1) ?? 0 };
}

export function nowUs(): number {
  return Number(process.hrtime.bigint()) / 1000;
}

/** Command-line `--name=value` flags of a worker. */
export function flags(argv = process.argv.slice(2)): Map<string, string> {
  const result = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (match) result.set(match[1]!, match[2] ?? 'true');
  }
  return result;
}

/** Hands a worker's result to the orchestrator (IPC), or prints it when run by hand. */
export async function report(result: unknown): Promise<void> {
  if (process.send) await new Promise<void>((resolve) => process.send!(result, () => resolve()));
  else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

/**
 * With `--profile=FILE`, records a CPU profile of the measured window only (not startup and
 * warm-up) through the inspector, and writes it to FILE on `stop`. Without it, does nothing.
 */
export async function windowProfiler(file: string | undefined): Promise<{ stop(): Promise<void> }> {
  if (!file) return { stop: async () => {} };
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/**
 * Run the built bench script `script` (a file next to this one) in a child process and resolve
 * with the one result it sends over IPC; rejects when it exits without one or runs past `timeoutMs`.
 */
export function forkForResult<Result>(script: string, args: string[], timeoutMs: number): Promise<Result> {
  const child = fork(new URL(`./${script}`, import.meta.url), args, { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let result: Result | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')}: no result after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', (message) => (result = message as Result));
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (result !== undefined) resolve(result);
      else reject(new Error(`${script} ${args.join(' ')} exited with ${code} and no result`));
    });
  });
}
