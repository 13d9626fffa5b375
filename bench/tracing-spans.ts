import type { AgentEvent } from '../src/agent/events.js';
import { openOtelTracing } from '../src/telemetry/otel-tracing.js';
import { telemetrySettings } from '../src/telemetry/telemetry-settings.js';
import { collectGarbage, report, windowProfiler } from './common.js';
import { startOtlpSink } from './otlp-sink.js';

/**
 * The CPU tracing itself costs, measured alone: the spans of a fan-out of N children (what
 * `fanout-legate.ts --tracing` makes, from the same events) made, batched, serialized as protobuf
 * and exported to a collector in its own process, with no model calls, store or tools around them.
 * Prints `{ spans, cpuMsPerRun, cpuMsPerChild }`, the median of `--reps` runs after a warm-up.
 *
 *   node bench/dist/bench/tracing-spans.js --n=100 --reps=7
 */

async function main(): Promise<void> {
  const args = new Map(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=') as [string, string]));
  const n = Number(args.get('n') ?? 100);
  const reps = Number(args.get('reps') ?? 7);
  const sink = await startOtlpSink();
  const tracing = await openOtelTracing(telemetrySettings(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_SERVICE_NAME: 'bench' })!, (line) =>
    process.stderr.write(`tracing: ${line}\n`),
  );
  const usage = { inputTokens: 1200, outputTokens: 40 };
  const child = (index: number, traceparent: string | undefined): void => {
    const trace = tracing.startAgent({
      name: 'child',
      agentId: `t_${index}`,
      conversationId: 's_bench',
      provider: 'openai',
      model: 'bench-model',
      ...(traceparent ? { traceparent } : {}),
      attributes: { 'legate.task.depth': 1, 'legate.task.mode': 'async', 'legate.task.resumes': 0, 'legate.task.epoch': 1, 'legate.task.resumed': false },
    });
    for (let iteration = 1; iteration <= 3; iteration++) {
      const events: AgentEvent[] = [
        { type: 'model.started', iteration, model: 'bench-model' },
        { type: 'model.finished', iteration, text: 'ok', toolCalls: iteration < 3 ? 1 : 0, usage, stopReason: iteration < 3 ? 'tool_use' : 'end_turn' },
        { type: 'usage', call: usage, total: usage },
      ];
      if (iteration < 3) {
        events.push(
          { type: 'tool.started', callId: `call_${iteration}`, name: 'list_dir', arguments: '{"path":"."}' },
          { type: 'tool.finished', callId: `call_${iteration}`, name: 'list_dir', content: 'a\nb\nc', isError: false, durationMs: 1 },
        );
      }
      for (const event of events) trace.observe(event);
    }
    trace.end({ status: 'completed', exitReason: 'completed', final: 'ok', messages: [], usage, apiCalls: 3 }, { 'legate.task.status': 'completed' });
  };
  const fanOut = (children: number): void => {
    const parent = tracing.startAgent({ name: 'legate', agentId: 's_bench', conversationId: 's_bench', provider: 'openai', model: 'bench-model' });
    for (let index = 0; index < children; index++) {
      parent.observe({ type: 'tool.started', callId: `spawn_${index}`, name: 'delegate_task_async', arguments: '{"goal":"g"}' });
      child(index, tracing.traceparentOf('s_bench', `spawn_${index}`));
      parent.observe({ type: 'tool.finished', callId: `spawn_${index}`, name: 'delegate_task_async', content: '{}', isError: false, durationMs: 1 });
    }
    for (let index = 0; index < children; index++) {
      parent.observe({ type: 'tool.started', callId: `collect_${index}`, name: 'collect_task', arguments: `{"task_id":"t_${index}"}` });
      parent.observe({ type: 'tool.finished', callId: `collect_${index}`, name: 'collect_task', content: '{}', isError: false, durationMs: 1 });
    }
    parent.end(undefined);
  };
  const warmups = Number(args.get('warm') ?? 3);
  const warmN = Number(args.get('warm-n') ?? n);
  for (let warm = 0; warm < warmups; warm++) fanOut(warmN);
  if (warmups > 0) await tracing.flush();
  await new Promise((resolve) => setTimeout(resolve, 500));
  collectGarbage(); // as the fan-out does before its window
  const perRun: number[] = [];
  // `--profile=FILE.cpuprofile`: a profile of the first measured run only.
  const profiler = await windowProfiler(args.get('profile'));
  for (let rep = 0; rep < reps; rep++) {
    const before = process.cpuUsage();
    fanOut(n);
    // Its spans serialized and sent, inside the measurement.
    await tracing.flush();
    const used = process.cpuUsage(before);
    perRun.push((used.user + used.system) / 1000);
    if (rep === 0) await profiler.stop();
  }
  await tracing.shutdown();
  const exported = await sink.stats();
  await sink.close();
  const sorted = [...perRun].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  await report({
    kind: 'tracing-spans',
    n,
    spans: 8 * n + 1,
    cpuMsPerRun: median,
    cpuMsPerChild: median / n,
    firstCpuMs: perRun[0],
    exportRequests: exported.requests,
  });
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
