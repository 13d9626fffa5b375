import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { osSandboxStatus } from '../src/sandbox/availability.js';
import { createSandboxedIO } from '../src/sandbox/sandboxed-io.js';
import { sandboxSettings } from '../src/sandbox/settings.js';
import { executeToolCall } from '../src/tools/execute.js';
import { createNodeIO } from '../src/tools/node-io.js';
import { terminalTool } from '../src/tools/terminal.js';
import type { ToolIO } from '../src/tools/tool.js';

/**
 * The cost of the OS sandbox per `terminal` call: a trivial command (`true`) through the real tool
 * and executor, unsandboxed (danger-full-access) and in bubblewrap (workspace-write), interleaved,
 * after a warm-up. Target: the median overhead at most 15 ms.
 *
 *   tsc -p bench/tsconfig.json && node bench/dist/bench/sandbox.js [--runs=50]
 */
const runs = Number(process.argv.find((arg) => arg.startsWith('--runs='))?.slice(7) ?? 50);
const warmup = 5;

const status = osSandboxStatus();
if (!status.available) {
  console.error(`bench/sandbox: ${status.reason}`);
  process.exit(1);
}

const root = mkdtempSync(join(tmpdir(), 'legate-bench-sandbox-'));
const [ws, home, temp] = ['ws', 'home', 'tmp'].map((name) => join(root, name)) as [string, string, string];
for (const dir of [ws, home, temp]) mkdirSync(dir);
const plain = createNodeIO();
const sandboxed = createSandboxedIO(plain, {
  settings: sandboxSettings({ mode: 'workspace-write', cwd: ws, home, configFile: undefined, writableRoots: [], network: false, tempDir: temp }),
});
const tools = new Map([[terminalTool.name, terminalTool]]);

async function once(io: ToolIO): Promise<number> {
  const started = process.hrtime.bigint();
  const result = await executeToolCall(
    tools,
    { id: 'b', name: 'terminal', arguments: '{"command":"true"}' },
    { cwd: ws, signal: new AbortController().signal, io },
  );
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.content !== 'exit code: 0\n(no output)') throw new Error(`unexpected result: ${result.content}`);
  return ms;
}

const times = { plain: [] as number[], sandboxed: [] as number[] };
for (let i = 0; i < warmup + runs; i++) {
  const a = await once(plain);
  const b = await once(sandboxed);
  if (i >= warmup) {
    times.plain.push(a);
    times.sandboxed.push(b);
  }
}
rmSync(root, { recursive: true, force: true });

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const round = (value: number): number => Math.round(value * 10) / 10;
const summary = {
  date: new Date().toISOString(),
  machine: `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${process.platform} ${process.arch}, node ${process.version}`,
  load_average_1m: round(loadavg()[0]!),
  sandbox: `${status.kind} ${status.executable}`,
  runs,
  plain_ms: { median: round(quantile(times.plain, 0.5)), p90: round(quantile(times.plain, 0.9)) },
  sandboxed_ms: { median: round(quantile(times.sandboxed, 0.5)), p90: round(quantile(times.sandboxed, 0.9)) },
  overhead_median_ms: round(quantile(times.sandboxed, 0.5) - quantile(times.plain, 0.5)),
  target_ms: 15,
};
console.log(JSON.stringify(summary, null, 2));
console.log(
  `sandbox overhead per terminal call: ${summary.overhead_median_ms} ms at the median (target <= 15 ms)` +
    `: ${summary.overhead_median_ms <= 15 ? 'met' : 'missed'}`,
);
