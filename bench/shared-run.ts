import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flags, forkForResult } from './common.js';
import type { DispatchResult } from './dispatch-latency.js';
import type { FanoutResult } from './fanout-result.js';
import type { LifecycleResult } from './lifecycle.js';
import type { ThroughputResult } from './scale-throughput.js';
import { replaceSharedSection, type SharedRun, sharedSection } from './shared-results.js';

/**
 * `npm run bench:shared [-- --only=throughput,dispatch,fanout,check] [--reps=N]`: the shared-mode
 * (Redis) benchmarks of issue 14, each case in its own process with its own private
 * redis-server, then the "Shared mode" section of bench/RESULTS.md (the rest of the file is left
 * as it is). `--only` runs some of them and keeps the others' last figures
 * (bench/dist/shared-results.json).
 */

const benchDir = fileURLToPath(new URL('../../', import.meta.url));
const parts = ['throughput', 'dispatch', 'fanout', 'check'] as const;

function runCase<Result>(script: string, args: string[]): Promise<Result> {
  return forkForResult<Result>(script, args, 900_000);
}

function log(line: string): void {
  process.stderr.write(`[bench:shared] ${line}\n`);
}

async function main(): Promise<void> {
  const options = flags();
  const only = new Set((options.get('only') ?? parts.join(',')).split(','));
  for (const part of only) if (!(parts as readonly string[]).includes(part)) throw new Error(`--only: unknown part "${part}" (known: ${parts.join(', ')})`);
  const reps = Number(options.get('reps') ?? 2);
  const dataFile = join(benchDir, 'dist', 'shared-results.json');
  const previous: Partial<SharedRun> = existsSync(dataFile) ? (JSON.parse(readFileSync(dataFile, 'utf8')) as SharedRun) : {};
  const started = Date.now();
  const loadBefore = loadavg();

  let throughput = previous.throughput ?? [];
  if (only.has('throughput')) {
    throughput = [];
    for (let rep = 1; rep <= reps; rep++) {
      for (const workers of [1, 2, 3]) {
        const result = await runCase<ThroughputResult>('scale-throughput.js', [`--workers=${workers}`]);
        log(`throughput ${workers} worker(s) rep ${rep}/${reps}: ${result.tasksPerSecond.toFixed(2)} tasks/s, spread ${result.spread.join('/')}`);
        throughput.push(result);
      }
    }
  }
  let dispatch = previous.dispatch;
  if (only.has('dispatch')) {
    dispatch = await runCase<DispatchResult>('dispatch-latency.js', []);
    log(`dispatch latency: p50 ${dispatch.latency.median.toFixed(0)} ms, p99 ${dispatch.latency.p99.toFixed(0)} ms`);
  }
  let fanout = previous.fanout ?? [];
  if (only.has('fanout')) {
    fanout = [];
    for (let rep = 1; rep <= Math.max(reps, 3); rep++) {
      for (const store of ['sqlite', 'redis'] as const) {
        const result = await runCase<FanoutResult>('fanout-legate.js', [`--store=${store}`, '--n=100']);
        log(`fan-out ${store} N=100 rep ${rep}: ${result.wallMs.toFixed(0)} ms, ${result.completed}/100 ok`);
        fanout.push(result);
      }
    }
  }
  let check = previous.check ?? [];
  if (only.has('check')) {
    check = [];
    for (const layer of ['tool', 'raw'] as const) {
      const result = await runCase<LifecycleResult>('lifecycle.js', ['--store=redis', `--layer=${layer}`, '--tasks=1000']);
      log(`check_task shared mode (${layer}), 1000 tasks: p50 ${result.ops.check.median.toFixed(0)} us, p99 ${result.ops.check.p99.toFixed(0)} us`);
      check.push(result);
    }
  }

  const run: SharedRun = {
    date: new Date().toISOString(),
    uname: execFileSync('uname', ['-a'], { encoding: 'utf8' }).trim(),
    cpu: `${cpus()[0]?.model ?? 'unknown'} (nproc ${execFileSync('nproc', { encoding: 'utf8' }).trim()})`,
    node: process.version,
    command: `npm run bench:shared${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    durationSeconds: (Date.now() - started) / 1000,
    loadAverage: { before: loadBefore, after: loadavg() },
    parts: [...only],
    throughput,
    ...(dispatch && { dispatch }),
    fanout,
    check,
  };
  writeFileSync(dataFile, JSON.stringify(run, null, 2));
  const resultsFile = join(benchDir, 'RESULTS.md');
  writeFileSync(resultsFile, replaceSharedSection(existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : '', sharedSection(run)));
  log(`wrote the shared-mode section of bench/RESULTS.md in ${run.durationSeconds.toFixed(0)} s`);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
