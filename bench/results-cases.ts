import type { FanoutResult } from './fanout-result.js';

/** The fan-out runs of a bench run grouped into cases (their repetitions reduced to medians), and the number formats every table uses. */

export const KiB = 1024;
export const MiB = 1024 * 1024;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** One fan-out case, its repetitions reduced to medians. */
export interface FanoutCase {
  impl: FanoutResult['impl'];
  store: FanoutResult['store'];
  n: number;
  reps: FanoutResult[];
  wallMs: number;
  idealMs: number;
  ratio: number;
  peakRss: number;
  rssPerTask: number;
  heapPerTask: number;
  messageBytesPerTask: number;
  cpuMs: number;
  loopDelayP99Ms: number;
  storeBusyMs: number;
  maxInFlight: number;
  serverCpuMs: number;
  serverP99Ms: number;
  failures: number;
  retries: number;
}

export function fanoutCases(results: FanoutResult[]): FanoutCase[] {
  const groups = new Map<string, FanoutResult[]>();
  for (const result of results) {
    const key = `${result.impl}|${result.store}|${result.n}`;
    groups.set(key, [...(groups.get(key) ?? []), result]);
  }
  return [...groups.values()].map((reps) => {
    const first = reps[0]!;
    const wallMs = median(reps.map((rep) => rep.wallMs));
    return {
      impl: first.impl,
      store: first.store,
      n: first.n,
      reps,
      wallMs,
      idealMs: first.idealMs,
      ratio: wallMs / first.idealMs,
      peakRss: median(reps.map((rep) => rep.peakRss)),
      rssPerTask: median(reps.map((rep) => rep.rssPerTask)),
      heapPerTask: median(reps.map((rep) => rep.heapPerTask)),
      messageBytesPerTask: median(reps.map((rep) => rep.messageBytesPerTask)),
      cpuMs: median(reps.map((rep) => rep.cpuUserMs + rep.cpuSystemMs)),
      loopDelayP99Ms: median(reps.map((rep) => rep.loopDelayP99Ms)),
      storeBusyMs: median(reps.map((rep) => rep.storeBusyMs ?? 0)),
      maxInFlight: Math.min(...reps.map((rep) => rep.server.maxInFlight)),
      serverCpuMs: median(reps.map((rep) => rep.server.cpuMs)),
      serverP99Ms: median(reps.map((rep) => rep.server.durationP99)),
      failures: reps.reduce((sum, rep) => sum + (rep.n - rep.completed), 0),
      retries: reps.reduce((sum, rep) => sum + rep.retries, 0),
    };
  });
}

export const fmt = (value: number, digits = 0): string => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const us = (value: number): string => (value < 100 ? fmt(value, 1) : fmt(value));

export function find(cases: FanoutCase[], impl: FanoutResult['impl'], store: FanoutResult['store'], n: number): FanoutCase | undefined {
  return cases.find((kase) => kase.impl === impl && kase.store === store && kase.n === n);
}

/** The peer run (`peer`, `peer-stream` or `ai-sdk`) with the lowest median wall time at N. */
export function fasterPeer(cases: FanoutCase[], n: number): FanoutCase | undefined {
  const peers = cases.filter((kase) => kase.n === n && (kase.impl === 'peer' || kase.impl === 'peer-stream' || kase.impl === 'ai-sdk'));
  return peers.sort((a, b) => a.wallMs - b.wallMs)[0];
}
