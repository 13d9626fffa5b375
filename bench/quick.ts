import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flags, forkForResult } from './common.js';
import type { FanoutResult } from './fanout-result.js';

/**
 * `npm run bench:quick [-- --record]`: the check to run before a submission that touches the loop,
 * the providers, the tools or the store (well under 90 s). Fan-out at N = 100 and 500 (3 calls of
 * 200 ms per child, the full bench's harness) for legate (memory store), the bare-fetch floor and
 * the faster peer (`@openai/agents`), one after another in this run. Prints wall time / ideal and
 * CPU per child for each, legate / peer, and compares legate's CPU per child with the record in
 * `bench/quick-record.json`: REGRESSED when it is more than 15 % above it. `--record` writes this
 * run as the new record (do it on a quiet machine, and say so in the note).
 */

const benchDir = fileURLToPath(new URL('../../', import.meta.url));
const recordFile = join(benchDir, 'quick-record.json');
const ns = [100, 500];
const cases = [
  { impl: 'legate', script: 'fanout-legate.js', args: ['--store=memory'] },
  { impl: 'floor', script: 'fanout-floor.js', args: [] },
  { impl: 'peer', script: 'fanout-peer.js', args: [] },
] as const;

interface QuickRow {
  impl: string;
  n: number;
  ratio: number;
  cpuPerChildMs: number;
  completed: number;
}

interface QuickRecord {
  date: string;
  /** Which tree was measured, when it was not this one. */
  commit?: string;
  machine: string;
  loadBefore: number;
  rows: QuickRow[];
}

const tolerance = 0.15;

async function main(): Promise<void> {
  const options = flags();
  const started = Date.now();
  const loadBefore = loadavg()[0]!;
  const rows: QuickRow[] = [];
  for (const n of ns) {
    for (const kase of cases) {
      const result = await forkForResult<FanoutResult>(kase.script, [...kase.args, `--n=${n}`], 120_000);
      rows.push({
        impl: kase.impl,
        n,
        ratio: result.wallMs / result.idealMs,
        cpuPerChildMs: (result.cpuUserMs + result.cpuSystemMs) / n,
        completed: result.completed,
      });
    }
  }
  const record = existsSync(recordFile) ? (JSON.parse(readFileSync(recordFile, 'utf8')) as QuickRecord) : undefined;
  const lines = [
    `bench:quick ${new Date().toISOString()} on ${machine()} (load ${loadBefore.toFixed(2)} before), ${((Date.now() - started) / 1000).toFixed(0)} s`,
    '',
    '| N | impl | wall / ideal | CPU per child | completed | record CPU per child | vs record |',
    '|---:|---|---:|---:|---:|---:|---|',
  ];
  let regressed = false;
  for (const row of rows) {
    const before = record?.rows.find((kept) => kept.impl === row.impl && kept.n === row.n);
    const change = before ? row.cpuPerChildMs / before.cpuPerChildMs - 1 : undefined;
    const verdict =
      change === undefined
        ? 'no record'
        : row.impl === 'legate' && change > tolerance
          ? 'REGRESSED'
          : `${change >= 0 ? '+' : ''}${(change * 100).toFixed(0)} %`;
    if (verdict === 'REGRESSED') regressed = true;
    lines.push(
      `| ${row.n} | ${row.impl} | ${row.ratio.toFixed(2)} | ${row.cpuPerChildMs.toFixed(2)} ms | ${row.completed}/${row.n} | ${before ? `${before.cpuPerChildMs.toFixed(2)} ms` : '–'} | ${verdict} |`,
    );
  }
  lines.push('');
  for (const n of ns) {
    const of = (impl: string) => rows.find((row) => row.impl === impl && row.n === n)!;
    // Against the floor of the same run: steadier than the raw figure on a loaded machine (both move with the load).
    const kept = (impl: string) => record?.rows.find((row) => row.impl === impl && row.n === n);
    const recordRatio = kept('legate') && kept('floor') ? ` (record ${(kept('legate')!.cpuPerChildMs / kept('floor')!.cpuPerChildMs).toFixed(2)})` : '';
    lines.push(
      `N=${n}: legate / peer wall ${(of('legate').ratio / of('peer').ratio).toFixed(2)}, legate / floor CPU per child ${(of('legate').cpuPerChildMs / of('floor').cpuPerChildMs).toFixed(2)}${recordRatio}`,
    );
  }
  lines.push(
    record
      ? `record: ${record.date}${record.commit ? ` at ${record.commit}` : ''} on ${record.machine} (load ${record.loadBefore.toFixed(2)}); ${regressed ? 'REGRESSED: legate CPU per child is more than 15 % above the record' : 'legate CPU per child within 15 % of the record'}`
      : 'no record yet: run with --record on a quiet machine',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  if (options.has('record')) {
    writeFileSync(recordFile, `${JSON.stringify({ date: new Date().toISOString(), machine: machine(), loadBefore, rows } satisfies QuickRecord, null, 2)}\n`);
    process.stdout.write(`recorded in bench/quick-record.json\n`);
  }
  if (regressed) process.exitCode = 1;
}

function machine(): string {
  const list = cpus();
  return `${list[0]?.model.trim() ?? 'unknown CPU'} ×${list.length}, ${execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim()}, node ${process.version}`;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:quick failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
