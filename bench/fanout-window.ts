import { monitorEventLoopDelay } from 'node:perf_hooks';
import { collectGarbage, MemorySampler, type ModelServerHandle, windowProfiler } from './common.js';
import type { FanoutResult } from './fanout-result.js';

/** What every fan-out implementation measures around its N children, for its `FanoutResult`. */
export type FanoutWindow = Pick<
  FanoutResult,
  'wallMs' | 'baselineRss' | 'peakRss' | 'rssPerTask' | 'heapPerTask' | 'cpuUserMs' | 'cpuSystemMs' | 'loopDelayP99Ms' | 'loopDelayMaxMs'
>;

/**
 * Runs `fanOut(n)` once as a warm-up of `warmup` children, then measures `fanOut(n)`: wall time,
 * CPU, peak RSS and heap against the baseline after the warm-up and a GC, and event-loop delay.
 * `afterWarmup` runs before that GC, `beforeWindow` just before the measured window starts (to
 * reset counters); `profile` is a
 * `.cpuprofile` path for a profile of the window only.
 */
export async function measureFanout<T>(
  fanOut: (count: number, label: string) => Promise<T>,
  options: { n: number; warmup: number; profile: string | undefined; afterWarmup?: () => void; beforeWindow?: () => void | Promise<void> },
): Promise<{ value: T; window: FanoutWindow }> {
  await fanOut(options.warmup, 'warm-up');
  options.afterWarmup?.();
  collectGarbage();
  const baseline = process.memoryUsage();
  const sampler = new MemorySampler();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  const profiler = await windowProfiler(options.profile);
  sampler.start();
  loopDelay.enable();
  await options.beforeWindow?.();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const value = await fanOut(options.n, 'task');
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  loopDelay.disable();
  const memory = sampler.stop();
  await profiler.stop();
  return {
    value,
    window: {
      wallMs,
      baselineRss: baseline.rss,
      peakRss: memory.peakRss,
      rssPerTask: (memory.peakRss - baseline.rss) / options.n,
      heapPerTask: (memory.peakHeapUsed - baseline.heapUsed) / options.n,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      loopDelayMaxMs: loopDelay.max / 1e6,
    },
  };
}

/**
 * The whole measured fan-out of an implementation whose children settle with their final answer
 * (the floor, the peer): measure, count the children whose answer is not "Done: …", stop the
 * server, and make the result.
 */
export async function settledFanoutResult(
  impl: FanoutResult['impl'],
  fanOut: (count: number, label: string) => Promise<PromiseSettledResult<string>[]>,
  run: { n: number; steps: number; latencyMs: number; warmup: number; profile: string | undefined; server: ModelServerHandle; scratch: { dispose(): void } },
): Promise<FanoutResult> {
  const { value: finals, window } = await measureFanout(fanOut, { n: run.n, warmup: run.warmup, profile: run.profile, afterWarmup: () => run.server.reset() });
  const failures = settledFailures(finals);
  const server = await run.server.stats();
  await run.server.close();
  run.scratch.dispose();
  return {
    kind: 'fanout',
    impl,
    store: 'none',
    n: run.n,
    steps: run.steps,
    latencyMs: run.latencyMs,
    idealMs: run.steps * run.latencyMs,
    completed: run.n - failures.length,
    failures: failures.slice(0, 5),
    retries: 0,
    messageBytesPerTask: 0,
    ...window,
    server,
  };
}

/** Failures among settled children whose final answer should start with "Done:". */
function settledFailures(finals: PromiseSettledResult<string>[]): string[] {
  return finals
    .map((final, index) =>
      final.status === 'rejected'
        ? `#${index}: ${String(final.reason)}`
        : final.value.startsWith('Done:')
          ? undefined
          : `#${index}: final ${JSON.stringify(final.value)}`,
    )
    .filter((failure): failure is string => failure !== undefined);
}
