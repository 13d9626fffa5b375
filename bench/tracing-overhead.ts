import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
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

async function main(): Promise<void> {
  const options = flags();
  const n = Number(options.get('n') ?? 100);
  const reps = Number(options.get('reps') ?? 5);
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
  const alone = await forkForResult<{ spans: number; cpuMsPerRun: number; cpuMsPerChild: number }>('tracing-spans.js', [`--n=${n}`, '--reps=7'], 120_000);
  const wall = (mode: 'off' | 'on') => summarize(runs[mode].map((run) => run.wallMs)).median;
  const cpu = (mode: 'off' | 'on') => summarize(runs[mode].map((run) => (run.cpuUserMs + run.cpuSystemMs) / n)).median;
  const exported = runs.on.map((run) => run.tracing?.exportBytes ?? 0);
  const wallOverhead = wall('on') / wall('off') - 1;
  const cpuOverhead = cpu('on') / cpu('off') - 1;
  const percent = (value: number) => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)} %`;
  const lines = [
    '# Tracing overhead',
    '',
    `${new Date().toISOString()} on ${machine()} (load ${loadBefore.toFixed(2)} before), ${reps} repetitions each, interleaved, ${((Date.now() - started) / 1000).toFixed(0)} s.`,
    `Fan-out N = ${n}: one parent spawns N background children (\`delegate_task_async\`, then \`collect_task\`), each making 3 model calls of 200 ms`,
    '(ideal 600 ms); memory store. "on": OpenTelemetry with OTLP/HTTP protobuf to a collector in its own process, one trace with',
    `an \`invoke_agent\` span per child, a \`chat\` span per model call and an \`execute_tool\` span per tool call (${n * 6 + 2 * n + 1} spans per run).`,
    '',
    '| tracing | wall (median) | CPU per child (median) | exported per run |',
    '|---|---:|---:|---:|',
    `| off | ${wall('off').toFixed(0)} ms | ${cpu('off').toFixed(2)} ms | – |`,
    `| on | ${wall('on').toFixed(0)} ms | ${cpu('on').toFixed(2)} ms | ${(summarize(exported).median / 1024).toFixed(0)} KiB |`,
    '',
    `Tracing measured alone (\`tracing-spans.ts\`: the same ${alone.spans} spans from the same events, batched, serialized and exported, warmed up, no model calls or store around them):`,
    `${alone.cpuMsPerRun.toFixed(1)} ms of CPU per run, ${alone.cpuMsPerChild.toFixed(2)} ms per child: ${percent(alone.cpuMsPerChild / cpu('off'))} of a child's CPU without tracing.`,
    '',
    `Overhead of tracing in the fan-out: wall ${percent(wallOverhead)}, CPU per child ${percent(cpuOverhead)} (target: at most ${(target * 100).toFixed(0)} % on both): ${
      Math.max(wallOverhead, cpuOverhead) <= target ? 'met' : 'MISSED'
    }. On a shared machine the wall times of single runs swing by more than that; CPU per child is the steadier figure.`,
    '',
    'Run it with `npm run bench:tracing` (`-- --reps=N --n=N`).',
  ];
  const text = `${lines.join('\n')}\n`;
  process.stdout.write(text);
  if (!options.has('no-write')) writeFileSync(join(benchDir, 'RESULTS-tracing.md'), text);
}

function machine(): string {
  const list = cpus();
  return `${list[0]?.model.trim() ?? 'unknown CPU'} ×${list.length}, ${execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim()}, node ${process.version}`;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:tracing failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
