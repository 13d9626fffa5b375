import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flags, forkForResult } from './common.js';
import type { FanoutResult } from './fanout-result.js';
import type { InflightResult } from './inflight-floor.js';
import type { LifecycleResult } from './lifecycle.js';
import { type ProfileSummary, profileMarkdown, summarizeProfile } from './profile-summary.js';
import { type BenchRun, writeResults } from './results.js';
import { replaceSharedSection, sharedSectionOf } from './shared-results.js';

/**
 * `npm run bench [-- --quick | --no-profile | --reps=N | --render | --no-shared]`: every benchmark,
 * each case in a fresh process (so memory figures do not bleed), repetitions interleaved, then
 * `bench/RESULTS.md` (`--quick`: a subset, written to `bench/dist/RESULTS-quick.md`; `--render`:
 * rewrite RESULTS.md from the last full run's `bench/dist/results.json`). A full run ends with the
 * shared-mode benchmarks (bench/shared-run.ts, needs `redis-server`; `--no-shared` leaves them
 * out); RESULTS.md's shared-mode section is kept whenever the rest is rewritten.
 */

const benchDir = fileURLToPath(new URL('../../', import.meta.url));
const distDir = fileURLToPath(new URL('./', import.meta.url));
const rootDir = join(benchDir, '..');

function runWorker<Result>(script: string, args: string[]): Promise<Result> {
  return forkForResult<Result>(script, args, 300_000);
}

function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

async function main(): Promise<void> {
  const options = flags();
  if (options.has('render')) {
    // Re-render RESULTS.md from the last run's data (after changing results.ts).
    const run = JSON.parse(readFileSync(join(benchDir, 'dist', 'results.json'), 'utf8')) as BenchRun;
    writeFileSync(join(benchDir, 'RESULTS.md'), keepShared(join(benchDir, 'RESULTS.md'), writeResults(run)));
    log('rewrote bench/RESULTS.md from bench/dist/results.json');
    return;
  }
  const quick = options.has('quick');
  const profile = !quick && !options.has('no-profile');
  const started = Date.now();
  const loadBefore = loadavg();
  const ns = quick ? [10, 100] : [10, 100, 500, 1000];
  const reps = Number(options.get('reps') ?? (quick ? 1 : 3));

  const fanoutCases: { impl: FanoutResult['impl']; store: FanoutResult['store']; script: string; args: string[] }[] = [
    { impl: 'legate', store: 'memory', script: 'fanout-legate.js', args: ['--store=memory'] },
    { impl: 'legate', store: 'sqlite', script: 'fanout-legate.js', args: ['--store=sqlite'] },
    { impl: 'peer', store: 'none', script: 'fanout-peer.js', args: [] },
    { impl: 'peer-stream', store: 'none', script: 'fanout-peer.js', args: ['--stream'] },
    { impl: 'ai-sdk', store: 'none', script: 'fanout-aisdk.js', args: [] },
    { impl: 'floor', store: 'none', script: 'fanout-floor.js', args: [] },
  ];
  const fanout: FanoutResult[] = [];
  for (let rep = 1; rep <= reps; rep++) {
    for (const n of ns) {
      for (const kase of fanoutCases) {
        const result = await runWorker<FanoutResult>(kase.script, [...kase.args, `--n=${n}`]);
        log(
          `fan-out ${kase.impl}/${kase.store} N=${n} rep ${rep}/${reps}` +
            `: ${result.wallMs.toFixed(0)} ms (${(result.wallMs / result.idealMs).toFixed(2)}x), ${result.completed}/${n} ok`,
        );
        fanout.push(result);
      }
    }
  }

  const lifecycleCases = quick
    ? [
        { store: 'memory', layer: 'tool' },
        { store: 'memory', layer: 'raw' },
      ]
    : [
        { store: 'memory', layer: 'tool' },
        { store: 'memory', layer: 'raw' },
        { store: 'sqlite', layer: 'tool' },
        { store: 'sqlite', layer: 'raw' },
      ];
  const lifecycle: LifecycleResult[] = [];
  for (const kase of lifecycleCases) {
    const result = await runWorker<LifecycleResult>('lifecycle.js', [`--store=${kase.store}`, `--layer=${kase.layer}`, '--tasks=1000']);
    log(`lifecycle ${kase.store}/${kase.layer}: spawn p50 ${result.ops.spawn.median.toFixed(0)} us, check p99 ${result.ops.check.p99.toFixed(0)} us`);
    lifecycle.push(result);
  }
  const spawnTurn: LifecycleResult[] = [];
  for (const store of quick ? ['memory'] : ['memory', 'sqlite']) {
    const result = await runWorker<LifecycleResult>('lifecycle.js', [`--store=${store}`, '--layer=tool', '--tasks=1000', '--yield']);
    log(
      `lifecycle ${store}/tool --yield: spawn + one turn p50 ${result.ops.spawn.median.toFixed(0)} us, ${result.spawnToRequestCpuMsPerTask.toFixed(2)} ms CPU per child`,
    );
    spawnTurn.push(result);
  }

  const inflight: InflightResult[] = [];
  for (const client of ['fetch', 'sdk'] as const) {
    const result = await runWorker<InflightResult>('inflight-floor.js', [`--client=${client}`, '--requests=1000']);
    log(`in-flight floor ${client}: ${(result.rssPerRequest / 1024).toFixed(1)} KiB RSS per request`);
    inflight.push(result);
  }

  const profiles: { title: string; command: string; summary: ProfileSummary; markdown: string }[] = [];
  if (profile) {
    const profileRoot = join(benchDir, 'profiles');
    rmSync(profileRoot, { recursive: true, force: true });
    const profileCases = [
      { title: 'legate fan-out, N = 1000, memory store', script: 'fanout-legate.js', args: ['--store=memory', '--n=1000'] },
      { title: 'legate fan-out, N = 1000, SQLite store', script: 'fanout-legate.js', args: ['--store=sqlite', '--n=1000'] },
      { title: 'peer fan-out, N = 1000', script: 'fanout-peer.js', args: ['--n=1000'] },
      { title: 'ai-sdk fan-out, N = 1000', script: 'fanout-aisdk.js', args: ['--n=1000'] },
      { title: 'lifecycle, 1000 live tasks, tool layer, memory store', script: 'lifecycle.js', args: ['--store=memory', '--layer=tool', '--tasks=1000'] },
    ];
    mkdirSync(profileRoot, { recursive: true });
    for (const [index, kase] of profileCases.entries()) {
      const file = join(profileRoot, `${index + 1}-${kase.script.replace('.js', '')}.cpuprofile`);
      await runWorker(kase.script, [...kase.args, `--profile=${file}`]);
      const summary = summarizeProfile(file, 40);
      profiles.push({
        title: kase.title,
        command:
          `node bench/dist/bench/${kase.script} ${kase.args.join(' ')}` + ` --profile=bench/profiles/${index + 1}-${kase.script.replace('.js', '')}.cpuprofile`,
        summary,
        markdown: profileMarkdown(summary, 15),
      });
      log(`profiled ${kase.title}: ${summary.busyMs.toFixed(0)} ms busy`);
    }
  }

  const cpuList = cpus();
  const run: BenchRun = {
    date: new Date().toISOString(),
    uname: execFileSync('uname', ['-a'], { encoding: 'utf8' }).trim(),
    cpu: `${cpuModel()} (${cpuList.length} logical CPU${cpuList.length === 1 ? '' : 's'})`,
    node: process.version,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    peerVersion: packageVersion('@openai/agents'),
    openaiVersion: packageVersion('openai'),
    aiSdkVersion: packageVersion('ai'),
    aiSdkProviderVersion: packageVersion('@ai-sdk/openai-compatible'),
    durationSeconds: (Date.now() - started) / 1000,
    loadAverage: { before: loadBefore, after: loadavg() },
    quick,
    reps,
    fanout,
    lifecycle,
    spawnTurn,
    inflight,
    profiles,
  };
  // A quick run never replaces the full results.
  const [data, report] = quick ? ['dist/results-quick.json', 'dist/RESULTS-quick.md'] : ['dist/results.json', 'RESULTS.md'];
  writeFileSync(join(benchDir, data), JSON.stringify(run, null, 2));
  writeFileSync(join(benchDir, report), keepShared(join(benchDir, report), writeResults(run)));
  log(`wrote bench/${report} in ${run.durationSeconds.toFixed(0)} s`);
  if (!quick && !options.has('no-shared')) {
    const shared = fork(join(distDir, 'shared-run.js'), [], { stdio: 'inherit' });
    const code = await new Promise<number | null>((resolve) => shared.on('exit', resolve));
    if (code !== 0) log(`the shared-mode benchmarks failed (exit ${code}); RESULTS.md keeps their previous section`);
  }
}

/** `fresh` with the shared-mode section the file at `path` has now (bench/shared-run.ts writes it). */
function keepShared(path: string, fresh: string): string {
  const section = existsSync(path) ? sharedSectionOf(readFileSync(path, 'utf8')) : undefined;
  return section ? replaceSharedSection(fresh, section) : fresh;
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('model name'));
    if (line) return line.split(':')[1]!.trim();
  } catch {
    // Not Linux.
  }
  return cpus()[0]?.model ?? 'unknown';
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(rootDir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
