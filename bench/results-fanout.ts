import type { BenchRun } from './bench-run.js';
import { type FanoutCase, fmt, KiB, MiB } from './results-cases.js';

/** Section 1 of RESULTS.md: the fan-out table, every impl and store at every N. */
export function fanoutSection(run: BenchRun, cases: FanoutCase[]): string[] {
  const steps = run.fanout[0]?.steps ?? 3;
  const latency = run.fanout[0]?.latencyMs ?? 200;
  const out: string[] = [];
  const line = (text = ''): void => void out.push(text);
  line('## 1. Fan-out');
  line();
  line(
    `One parent spawns N background children; each makes S = ${steps} model calls (list_dir, list_dir, final answer) ` +
      `to the scripted server, which answers each after L = ${latency} ms, ` +
      `so the ideal wall time is S x L = ${steps * latency} ms. ` +
      "legate: the parent's own `delegate_task_async` and `collect_task` tools, " +
      "run as its loop runs one message's tool calls (`executeToolCall`, all N at once), with `delegation.max_concurrent_children = N`. " +
      'The scripted server runs in a separate process. ' +
      'Wall time from the first spawn until every collect returned; peak RSS from `process.resourceUsage().maxRSS` and 10 ms samples; ' +
      'per task = (peak - baseline after warm-up and GC) / N. ' +
      '"store" memory = `MemoryTaskStore` (store off), sqlite = `SqliteTaskStore` on a file (store on).',
  );
  line();
  line(
    '| impl | store | N | wall ms | ratio to S x L | peak RSS MiB | RSS / task KiB | heap / task KiB ' +
      '| messages / task B | CPU ms | CPU / task ms | event-loop delay p99 ms ' +
      '| max in flight at server | server CPU ms | server reply p99 ms | failed |',
  );
  line('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const kase of [...cases].sort((a, b) => a.impl.localeCompare(b.impl) || a.store.localeCompare(b.store) || a.n - b.n)) {
    const walls = kase.reps.map((rep) => rep.wallMs);
    const spread = walls.length > 1 ? ` (${fmt(Math.min(...walls))}–${fmt(Math.max(...walls))})` : '';
    line(
      `| ${kase.impl} | ${kase.store} | ${kase.n} | ${fmt(kase.wallMs)}${spread} | ${fmt(kase.ratio, 2)}` +
        ` | ${fmt(kase.peakRss / MiB, 1)} | ${kase.n >= 100 ? fmt(kase.rssPerTask / KiB, 1) : '–'}` +
        ` | ${kase.n >= 100 ? fmt(kase.heapPerTask / KiB, 1) : '–'}` +
        ` | ${kase.messageBytesPerTask ? fmt(kase.messageBytesPerTask) : '–'} | ${fmt(kase.cpuMs)} | ${fmt(kase.cpuMs / kase.n, 2)}` +
        ` | ${fmt(kase.loopDelayP99Ms, 1)} | ${kase.maxInFlight} | ${fmt(kase.serverCpuMs)} | ${fmt(kase.serverP99Ms)}` +
        ` | ${kase.failures}${kase.retries ? ` (${kase.retries} retried)` : ''} |`,
    );
  }
  line();
  line(
    '"floor" is the harness by itself: the same N x S streamed requests with the same bodies made with bare `fetch` and a minimal SSE reader, ' +
      'and the same readdir per tool call, with no SDK, agent loop or store (bench/fanout-floor.ts). ' +
      "It is the best any runtime can do on this machine with this server; legate's overhead is the distance from it. " +
      '"server CPU" is the scripted server process (it shares the machine\'s CPUs with the runtime); ' +
      '"server reply p99" is arrival to last byte at the server, ' +
      `${latency} ms of which is the scripted latency.`,
  );
  line();
  line("Per-task memory is left out below N = 100: the peak is then mostly the warm-up's high-water mark, and dividing by 10 turns noise into megabytes.");
  line();
  line(
    '"max in flight at server" is the most model requests the server saw open at once: ' +
      "equal to N means the HTTP client (Node's global fetch, undici, no per-origin connection limit by default) did not cap the fan-out." +
      " Below N it means the first children's requests were already answered before the last ones were sent " +
      '(the start of the fan-out is CPU-bound); the floor, with bare fetch and no pool limit either, shows the same.',
  );
  line();
  return out;
}
