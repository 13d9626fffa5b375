import { type FanoutCase, find, fmt } from './results-cases.js';

/** Section 3 of RESULTS.md: the SQLite store against the memory store at every N. */
export function checkpointSection(cases: FanoutCase[], ns: number[]): string[] {
  const out: string[] = [];
  const line = (text = ''): void => void out.push(text);
  line('## 3. Checkpoint cost');
  line();
  line(
    'The same fan-out with the SQLite store (every step checkpointed, output and progress written) against the in-memory store. ' +
      '"store busy" is the time spent inside store calls and in the SQLite store\'s group commits ' +
      '(timed by a wrapper; both backends work synchronously).',
  );
  line();
  line('| N | memory wall ms | SQLite wall ms | difference | SQLite store busy ms | busy % of wall | memory store busy ms |');
  line('|---:|---:|---:|---:|---:|---:|---:|');
  for (const n of ns) {
    const memory = find(cases, 'legate', 'memory', n);
    const sqlite = find(cases, 'legate', 'sqlite', n);
    if (!memory || !sqlite) continue;
    line(
      `| ${n} | ${fmt(memory.wallMs)} | ${fmt(sqlite.wallMs)} | ${fmt((100 * (sqlite.wallMs - memory.wallMs)) / memory.wallMs, 1)} %` +
        ` | ${fmt(sqlite.storeBusyMs, 1)} | ${fmt((100 * sqlite.storeBusyMs) / sqlite.wallMs, 1)} % | ${fmt(memory.storeBusyMs, 1)} |`,
    );
  }
  line();
  return out;
}
