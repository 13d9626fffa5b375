import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compactingContext, handoffPrompt } from '../src/agent/context/prepare-context.js';
import type { AgentEvent, RunResult } from '../src/agent/events.js';
import { runAgentLoop } from '../src/agent/loop.js';
import { CredentialPool } from '../src/provider/credential-pool.js';
import { createProvider } from '../src/provider/registry.js';
import type { Provider } from '../src/provider/types.js';
import { type ScriptedServer, startScriptedServer } from '../src/testing/scripted-server.js';
import { createNodeIO } from '../src/tools/node-io.js';
import { builtinToolsets } from '../src/tools/toolsets.js';

/**
 * `npm run bench:compaction` (issue 26): a child making 300 `read_file` calls whose results add up to
 * about 10× its context window, on the scripted server (which answers a request over the window with
 * OpenAI's real context-length 400). Run with compaction (the window configured: proactive) and
 * without; reports tokens sent in total, whether it completed, where the run without compaction
 * failed, compaction overhead in ms excluding the hand-off calls' model time, and peak RSS.
 * Writes bench/COMPACTION.md.
 */

const calls = 300;
const window = 32_000;
/** Each file: 40 lines of 100 characters, about 1,050 tokens as read_file returns it (numbered). */
const fileText = Array.from({ length: 40 }, (_, line) => `${String(line).padStart(3, '0')} ${'r'.repeat(96)}`).join('\n');
const benchDir = fileURLToPath(new URL('../../', import.meta.url));

interface Outcome {
  result: RunResult;
  requests: number;
  tokensSent: number;
  largestRequest: number;
  compactions: { prune: number; summarise: number };
  /** Time in the context step, less the hand-off calls' time, ms. */
  overheadMs: number;
  handoffMs: number;
  handoffCalls: number;
  wallMs: number;
}

function serverFor(): Promise<ScriptedServer> {
  let reads = 0;
  return startScriptedServer({
    contextWindow: window,
    handler: (request) => {
      if (request.text.includes(handoffPrompt)) return { text: `Goal: read every file.\nProgress: ${reads} files read.\nNext steps: read the rest.` };
      if (reads < calls) {
        const file = `file-${reads++}.txt`;
        return { toolCalls: [{ name: 'read_file', arguments: { path: file } }] };
      }
      return { text: `Read all ${reads} files.` };
    },
  });
}

function providerOf(server: ScriptedServer): Provider {
  return createProvider({ provider: 'openai', baseUrl: server.openaiBaseUrl, pool: new CredentialPool({ keys: ['sk-bench-compaction-01'] }), maxAttempts: 1 });
}

/** The provider, its calls timed (for the hand-off calls: model time, not compaction overhead). */
function timed(provider: Provider, clock: { ms: number; calls: number }): Provider {
  return {
    ...provider,
    async *stream(request, signal) {
      const started = performance.now();
      clock.calls++;
      try {
        yield* provider.stream(request, signal);
      } finally {
        clock.ms += performance.now() - started;
      }
    },
  };
}

async function runOnce(compaction: boolean, cwd: string): Promise<Outcome> {
  const server = await serverFor();
  const provider = providerOf(server);
  const handoff = { ms: 0, calls: 0 };
  const inner = compaction
    ? compactingContext({
        provider: timed(provider, handoff),
        model: 'bench-model',
        contextWindow: window,
        reserveTokens: 4_000,
        threshold: 0.8,
        keepToolTokens: 8_000,
        keepRecentTokens: 8_000,
      })
    : undefined;
  let contextMs = 0;
  const prepareContext: typeof inner = inner
    ? async (transcript, signal, rejected) => {
        const started = performance.now();
        try {
          return await inner(transcript, signal, rejected);
        } finally {
          contextMs += performance.now() - started;
        }
      }
    : undefined;
  const compactions = { prune: 0, summarise: 0 };
  const started = performance.now();
  const result = await runAgentLoop({
    provider,
    model: 'bench-model',
    system: 'You are a focused subagent.',
    messages: [{ role: 'user', content: 'Goal:\nRead file-0.txt to file-299.txt and report.' }],
    tools: builtinToolsets().flatMap((toolset) => toolset.tools),
    cwd,
    io: createNodeIO(),
    maxIterations: calls + 5,
    signal: new AbortController().signal,
    ...(prepareContext ? { prepareContext } : {}),
    emit: (event: AgentEvent) => {
      if (event.type === 'context.compacted') compactions[event.how]++;
    },
  });
  const wallMs = performance.now() - started;
  const sent = server.requests.filter((request) => !request.text.includes(handoffPrompt));
  const tokens = sent.map((request) => Math.ceil(request.text.length / 4));
  await server.close();
  return {
    result,
    requests: server.requests.length,
    tokensSent: server.requests.reduce((sum, request) => sum + Math.ceil(request.text.length / 4), 0),
    largestRequest: Math.max(...tokens),
    compactions,
    overheadMs: contextMs - handoff.ms,
    handoffMs: handoff.ms,
    handoffCalls: handoff.calls,
    wallMs,
  };
}

/** What the run without compaction would have sent had the window been unbounded: every request is the whole conversation so far. */
function unboundedTokens(perRead: number, brief: number): number {
  let total = 0;
  for (let call = 0; call <= calls; call++) total += brief + call * perRead;
  return total;
}

const cwd = mkdtempSync(join(tmpdir(), 'legate-bench-compaction-'));
for (let index = 0; index < calls; index++) writeFileSync(join(cwd, `file-${index}.txt`), fileText);
try {
  const rssBefore = process.memoryUsage().rss;
  const withCompaction = await runOnce(true, cwd);
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const without = await runOnce(false, cwd);
  const perRead = Math.ceil((fileText.length + 40 * 4) / 4) + 20;
  const resultsTokens = calls * perRead;
  const lines = [
    '# Compaction benchmark (issue 26)',
    '',
    `\`npm run bench:compaction\`, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load ${loadavg()[0]!.toFixed(2)}, Node ${process.version}.`,
    '',
    `A child makes ${calls} \`read_file\` calls (each result about ${perRead} tokens: ${resultsTokens.toLocaleString('en-US')} tokens in all, ${(resultsTokens / window).toFixed(1)}× its window of ${window.toLocaleString('en-US')} tokens) on the scripted server, which answers a request over the window with OpenAI's context-length 400. Tokens are the server's count (4 characters a token of each request's text).`,
    '',
    '| | with compaction (window configured) | without compaction |',
    '|---|---:|---:|',
    `| outcome | ${withCompaction.result.status} (${withCompaction.result.exitReason}) | ${without.result.status} (${without.result.exitReason}) after ${without.result.apiCalls} model calls |`,
    `| model requests | ${withCompaction.requests} (${withCompaction.handoffCalls} of them hand-offs) | ${without.requests} |`,
    `| tokens sent in total | ${withCompaction.tokensSent.toLocaleString('en-US')} | ${without.tokensSent.toLocaleString('en-US')} until it failed; ${unboundedTokens(perRead, 60).toLocaleString('en-US')} had the window been unbounded (computed) |`,
    `| largest request | ${withCompaction.largestRequest.toLocaleString('en-US')} tokens | ${without.largestRequest.toLocaleString('en-US')} tokens (the one refused) |`,
    `| compactions | ${withCompaction.compactions.prune} prune, ${withCompaction.compactions.summarise} summarise | – |`,
    `| compaction overhead (context step, less hand-off model time) | ${withCompaction.overheadMs.toFixed(1)} ms in all, ${(withCompaction.overheadMs / (calls + 1)).toFixed(3)} ms per model call | – |`,
    `| hand-off calls (model time, scripted server) | ${withCompaction.handoffMs.toFixed(0)} ms | – |`,
    `| wall time | ${(withCompaction.wallMs / 1000).toFixed(1)} s | ${(without.wallMs / 1000).toFixed(1)} s |`,
    `| peak RSS of the process | ${peakRssMb.toFixed(0)} MB (${(rssBefore / 1024 / 1024).toFixed(0)} MB at start) | – |`,
    '',
  ];
  const text = lines.join('\n');
  writeFileSync(join(benchDir, 'COMPACTION.md'), text);
  process.stdout.write(`${text}\nwritten to bench/COMPACTION.md\n`);
  if (withCompaction.result.status !== 'completed') process.exitCode = 1;
} finally {
  rmSync(cwd, { recursive: true, force: true });
}
