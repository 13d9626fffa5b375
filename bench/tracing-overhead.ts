import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flags, forkForResult, summarize } from './common.js';
import type { FanoutResult } from './fanout-result.js';

/**
 * `npm run bench:tracing [-- --reps=5 --n=100]`: the cost of tracing. The legate fan-out (N
 * children, 3 model calls of 200 ms each, memory store) with OpenTelemetry off and on (OTLP/HTTP
 * protobuf to a collector in its own process), the two interleaved, each repetition in a fresh
 * process. Prints and writes `bench/RESULTS-tracing.md`: median wall time and CPU per child of
 * each, and the overhead of tracing on each (target: at most 5 %); and the CPU of the same spans
 * made and exported alone (`tracing-spans.ts`), which a loaded machine disturbs less.
 */

const benchDir = fileURLToPath(new URL('../../', import.meta.url));
const target = 0.05;
/** Where the hand-written notes of RESULTS-tracing.md start: a run rewrites what is above. */
const notesMarker = '## Runs and findings';

async function main(): Promise<void> {
  const options = flags();
  const n = Number(options.get('n') ?? 100);
  const reps = Number(options.get('reps') ?? 11);
  const loadBefore = loadavg()[0]!;
  const started = Date.now();
  const runs: Record<'off' | 'on', FanoutResult[]> = { off: [], on: [] };
  for (let rep = 0; rep < reps; rep++) {
    // Interleaved, alternating which goes first, so a drift of the machine touches both alike.
    const order: ('off' | 'on')[] = rep % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
    for (const mode of order) {
      const result = await forkForResult<FanoutResult>('fanout-legate.js', ['--store=memory', `--n=${n}`, ...(mode === 'on' ? ['--tracing'] : [])], 180_000);
      if (result.completed !== n) throw new Error(`tracing ${mode}: ${result.completed}/${n} completed: ${result.failures.join('; ')}`);
      runs[mode].push(result);
    }
  }
  type Alone = { spans: number; cpuMsPerRun: number; cpuMsPerChild: number };
  const alone = await forkForResult<Alone>('tracing-spans.js', [`--n=${n}`, '--reps=7'], 120_000);
  // Cold, as in the fan-out's window: a fresh process whose only spans before were an 8-child warm-up's.
  const cold: number[] = [];
  for (let rep = 0; rep < 5; rep++)
    cold.push((await forkForResult<Alone>('tracing-spans.js', [`--n=${n}`, '--reps=1', '--warm=1', '--warm-n=8'], 120_000)).cpuMsPerChild);
  const coldPerChild = summarize(cold).median;
  const wallsOf = (mode: 'off' | 'on') => runs[mode].map((run) => run.wallMs);
  const cpusOf = (mode: 'off' | 'on') => runs[mode].map((run) => (run.cpuUserMs + run.cpuSystemMs) / n);
  const wall = (mode: 'off' | 'on') => summarize(wallsOf(mode)).median;
  const cpu = (mode: 'off' | 'on') => summarize(cpusOf(mode)).median;
  const cpuTrimmed = (mode: 'off' | 'on') => trimmedMean(cpusOf(mode));
  // "on" with the export of the window's spans, which legate's batching leaves for after the burst.
  const withExport = trimmedMean(runs.on.map((run) => (run.cpuUserMs + run.cpuSystemMs + (run.tracing?.flushCpuMs ?? 0)) / n));
  const flushPerChild = summarize(runs.on.map((run) => (run.tracing?.flushCpuMs ?? 0) / n)).median;
  const spread = (values: number[]) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
  const exported = runs.on.map((run) => run.tracing?.exportBytes ?? 0);
  const wallOverhead = wall('on') / wall('off') - 1;
  const cpuOverhead = cpu('on') / cpu('off') - 1;
  const cpuTrimmedOverhead = cpuTrimmed('on') / cpuTrimmed('off') - 1;
  const withExportOverhead = withExport / cpuTrimmed('off') - 1;
  const percent = (value: number) => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)} %`;
  const lines = [
    '# Tracing overhead',
    '',
    `${new Date().toISOString()} on ${machine()} (load ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after), ${reps} repetitions each, interleaved, ${((Date.now() - started) / 1000).toFixed(0)} s.`,
    `Fan-out N = ${n}: one parent spawns N background children (\`delegate_task_async\`, then \`collect_task\`), each making 3 model calls of 200 ms`,
    '(ideal 600 ms); memory store. "on": OpenTelemetry with OTLP/HTTP protobuf to a collector in its own process, one trace with',
    `an \`invoke_agent\` span per child, a \`chat\` span per model call and an \`execute_tool\` span per tool call (${n * 6 + 2 * n + 1} spans per run).`,
    '',
    '| tracing | wall (median) | CPU per child (median) | CPU per child (trimmed mean) | CPU per child (range) | exported per run |',
    '|---|---:|---:|---:|---:|---:|',
    `| off | ${wall('off').toFixed(0)} ms | ${cpu('off').toFixed(2)} ms | ${cpuTrimmed('off').toFixed(2)} ms | ${spread(cpusOf('off'))} ms | – |`,
    `| on | ${wall('on').toFixed(0)} ms | ${cpu('on').toFixed(2)} ms | ${cpuTrimmed('on').toFixed(2)} ms | ${spread(cpusOf('on'))} ms | ${(summarize(exported).median / 1024).toFixed(0)} KiB |`,
    '',
    `Overhead of tracing in the fan-out: wall ${percent(wallOverhead)} (median), CPU per child ${percent(cpuOverhead)} (median), ${percent(cpuTrimmedOverhead)} (trimmed mean).`,
    `With the export of the window's spans, which the batching leaves for after the burst (${flushPerChild.toFixed(2)} ms per child, median, measured after the window):`,
    `CPU per child ${withExport.toFixed(2)} ms (trimmed mean), ${percent(withExportOverhead)}.`,
    '',
    `Tracing measured alone (\`tracing-spans.ts\`: the same ${alone.spans} spans from the same events, batched, serialized and exported, warmed up, no model calls or store around them):`,
    `${alone.cpuMsPerRun.toFixed(1)} ms of CPU per run, ${alone.cpuMsPerChild.toFixed(2)} ms per child, ${percent(alone.cpuMsPerChild / cpuTrimmed('off'))} of a child's CPU without tracing;`,
    `cold (a fresh process after an 8-child warm-up, as the fan-out's window; median of 5): ${coldPerChild.toFixed(2)} ms per child, ${percent(coldPerChild / cpuTrimmed('off'))}.`,
    '',
    `Target, at most ${(target * 100).toFixed(0)} %: ${cpuTrimmedOverhead <= target ? 'met' : 'MISSED'} on the fan-out's CPU per child (trimmed mean), ${withExportOverhead <= target ? 'met' : 'MISSED'} with the export of its spans. When the machine is shared (load above its`,
    `${cpus().length} cores), single fan-outs swing by more than 5 % either way (see the range): read the trimmed mean over many repetitions, and the cost measured alone.`,
    '',
    'Run it with `npm run bench:tracing` (`-- --reps=N --n=N`).',
  ];
  const text = `${lines.join('\n')}\n`;
  process.stdout.write(text);
  if (!options.has('no-write')) {
    // The notes below the marker (earlier runs, findings) are kept.
    const file = join(benchDir, 'RESULTS-tracing.md');
    const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const notes = before.includes(notesMarker) ? before.slice(before.indexOf(notesMarker)) : '';
    writeFileSync(file, notes ? `${text}\n${notes}` : text);
  }
}

/** The mean without the lowest and the highest value (all of them when there are fewer than 5). */
function trimmedMean(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const kept = sorted.length >= 5 ? sorted.slice(1, -1) : sorted;
  return kept.reduce((sum, value) => sum + value, 0) / kept.length;
}

function machine(): string {
  const list = cpus();
  return `${list[0]?.model.trim() ?? 'unknown CPU'} ×${list.length}, ${execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim()}, node ${process.version}`;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:tracing failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
