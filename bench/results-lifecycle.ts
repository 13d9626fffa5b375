import type { BenchRun } from './bench-run.js';
import type { Summary } from './common.js';
import { fmt, KiB, us } from './results-cases.js';

/** Section 2 of RESULTS.md: lifecycle operation cost with 1000 live tasks, the spawn-turn table and the in-flight floor. */
export function lifecycleSection(run: BenchRun): string[] {
  const out: string[] = [];
  const line = (text = ''): void => void out.push(text);
  line('## 2. Lifecycle operation cost (1000 live tasks, in-process)');
  line();
  line(
    '1000 tasks running at once (each child waits on a model call the server never answers), spawned one after another; ' +
      'then check (5 passes over all tasks), steer (once per task) and list (100 times). ' +
      '"tool" = the agent tool as the loop runs it (`executeToolCall`: JSON arguments, zod validation, the operation, the JSON result); ' +
      '"raw" = the TaskService call (check = `trail`: record, output and steers read at once). Microseconds.',
  );
  line();
  line('| op | layer | store | samples | median us | p99 us | mean us | max us |');
  line('|---|---|---|---:|---:|---:|---:|---:|');
  for (const op of ['spawn', 'check', 'steer', 'list'] as const) {
    for (const result of run.lifecycle) {
      const summary: Summary = result.ops[op];
      line(
        `| ${op} | ${result.layer} | ${result.store} | ${summary.count}` +
          ` | ${us(summary.median)} | ${us(summary.p99)} | ${us(summary.mean)} | ${us(summary.max)} |`,
      );
    }
  }
  line();
  line("Memory per live task (RSS and heap growth after GC with all 1000 tasks waiting on their first model call; a task's messages are then only its brief):");
  line();
  line('| layer | store | RSS / live task KiB | heap / live task KiB |');
  line('|---|---|---:|---:|');
  for (const result of run.lifecycle)
    line(`| ${result.layer} | ${result.store} | ${fmt(result.rssPerLiveTask / KiB, 1)} | ${fmt(result.heapPerLiveTask / KiB, 1)} |`);
  line();
  if (run.spawnTurn && run.spawnTurn.length > 0) {
    line(
      "What a spawn costs in all. Above, the 1000 spawns run back to back and the event loop never turns between them, so a spawn's " +
        "time holds whatever share of the children's start (claim, lease, the child's loop up to its model request) the microtask queue " +
        'ran before the call returned: that share follows the number of awaits on each path, not the work done. Two figures that do not ' +
        "depend on it: the CPU of the process per child, from the first spawn until every child's request reached the server; and " +
        "(`--yield`) each spawn timed until the event loop turned once after the call, which then holds its own child's start.",
    );
    line();
    line(
      '| layer | store | spawn median us (back to back) | CPU ms per child | spawn + one turn, median us (`--yield`) | p99 us | CPU ms per child (`--yield`) |',
    );
    line('|---|---|---:|---:|---:|---:|---:|');
    for (const turn of run.spawnTurn) {
      const plain = run.lifecycle.find((entry) => entry.layer === turn.layer && entry.store === turn.store);
      line(
        `| ${turn.layer} | ${turn.store} | ${plain ? us(plain.ops.spawn.median) : '–'} | ${plain?.spawnToRequestCpuMsPerTask !== undefined ? fmt(plain.spawnToRequestCpuMsPerTask, 2) : '–'}` +
          ` | ${us(turn.ops.spawn.median)} | ${us(turn.ops.spawn.p99)} | ${fmt(turn.spawnToRequestCpuMsPerTask, 2)} |`,
      );
    }
    line();
  }
  if (run.inflight.length > 0) {
    line(
      "The floor under that: one in-flight streamed model request with the same body as a child's first call, " +
        'held open 1000 times, without legate (bench/inflight-floor.ts). Each needs its own HTTP/1.1 connection.',
    );
    line();
    line('| client | RSS / request KiB | heap / request KiB |');
    line('|---|---:|---:|');
    for (const result of run.inflight)
      line(
        `| ${result.client === 'sdk' ? "openai SDK (as legate's provider calls it)" : 'bare fetch'}` +
          ` | ${fmt(result.rssPerRequest / KiB, 1)} | ${fmt(result.heapPerRequest / KiB, 1)} |`,
      );
    line();
  }
  return out;
}
