import type { BenchRun } from './bench-run.js';
import { type FanoutCase, fasterPeer, find, fmt, KiB, MiB } from './results-cases.js';

/** Section 4 of RESULTS.md: legate beside @openai/agents and the Vercel AI SDK, wall time, CPU and memory. */
export function peersSection(run: BenchRun, cases: FanoutCase[], ns: number[]): string[] {
  const out: string[] = [];
  const line = (text = ''): void => void out.push(text);
  line(`## 4. Side by side with @openai/agents${run.aiSdkVersion ? ' and the Vercel AI SDK' : ''}`);
  line();
  line(
    `The same fan-out written with @openai/agents ${run.peerVersion} (chat-completions mode, \`OpenAIChatCompletionsModel\` over an \`OpenAI\` client ` +
      `pointed at the same scripted server, one child \`Agent\` with a \`list_dir\` function tool, \`run()\` per child under \`Promise.all\`, ` +
      `tracing disabled), in the same run. ` +
      '"peer" uses `run()` (non-streaming requests, what most code writes); ' +
      '"peer-stream" uses `run(..., { stream: true })`, the same wire legate uses (legate always streams). ' +
      (run.aiSdkVersion
        ? `"ai-sdk" is the Vercel AI SDK, ai ${run.aiSdkVersion} with @ai-sdk/openai-compatible ${run.aiSdkProviderVersion ?? '?'} ` +
          `pointed at the same server: one \`ToolLoopAgent\` with the same \`list_dir\` tool, \`agent.stream()\` per child under \`Promise.all\`, ` +
          `each stream read to its end (bench/fanout-aisdk.ts). `
        : '') +
      '"faster peer" is whichever peer run had the lowest median wall time at that N. Ratio < 1 means legate is faster.',
  );
  line();
  const peerImpls = (['peer', 'peer-stream', 'ai-sdk'] as const).filter((impl) => cases.some((kase) => kase.impl === impl));
  line(
    `| N | legate (memory) ms | legate (SQLite) ms | ${peerImpls.map((impl) => `${impl} ms`).join(' | ')}` +
      ` | ${peerImpls.map((impl) => `legate / ${impl}`).join(' | ')} | faster peer | legate / faster peer |`,
  );
  line(`|---:|---:|---:|${peerImpls.map(() => '---:|').join('')}${peerImpls.map(() => '---:|').join('')}---|---:|`);
  for (const n of ns) {
    const legate = find(cases, 'legate', 'memory', n);
    const legateSqlite = find(cases, 'legate', 'sqlite', n);
    const peers = peerImpls.map((impl) => find(cases, impl, 'none', n));
    const fastest = fasterPeer(cases, n);
    if (!legate || !fastest) continue;
    line(
      `| ${n} | ${fmt(legate.wallMs)} | ${legateSqlite ? fmt(legateSqlite.wallMs) : '–'}` +
        ` | ${peers.map((peer) => (peer ? fmt(peer.wallMs) : '–')).join(' | ')}` +
        ` | ${peers.map((peer) => (peer ? fmt(legate.wallMs / peer.wallMs, 2) : '–')).join(' | ')}` +
        ` | ${fastest.impl} | ${fmt(legate.wallMs / fastest.wallMs, 2)} |`,
    );
  }
  line();
  line(
    'CPU time of the runtime process during the fan-out (user + system), and its memory: peak RSS, ' +
      'and per child (N >= 100) the growth of RSS and heap over the baseline after warm-up. legate with the memory store.',
  );
  line();
  line('| N | impl | CPU ms | CPU / child ms | peak RSS MiB | RSS / child KiB | heap / child KiB |');
  line('|---:|---|---:|---:|---:|---:|---:|');
  for (const n of ns) {
    for (const impl of ['legate', ...peerImpls] as const) {
      const kase = find(cases, impl, impl === 'legate' ? 'memory' : 'none', n);
      if (!kase) continue;
      line(
        `| ${n} | ${impl} | ${fmt(kase.cpuMs)} | ${fmt(kase.cpuMs / n, 2)}` +
          ` | ${fmt(kase.peakRss / MiB, 1)} | ${n >= 100 ? fmt(kase.rssPerTask / KiB, 1) : '–'} | ${n >= 100 ? fmt(kase.heapPerTask / KiB, 1) : '–'} |`,
      );
    }
  }
  line();
  return out;
}
