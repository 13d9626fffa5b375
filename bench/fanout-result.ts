import type { ModelServerStats } from './model-server.js';
import type { RedisWindow } from './redis-stats.js';

/** One fan-out's measurements, as every implementation (legate, the peers, the floor) reports them and the tables read them. */
export interface FanoutResult {
  kind: 'fanout';
  impl: 'legate' | 'peer' | 'peer-stream' | 'ai-sdk' | 'floor';
  store: 'memory' | 'sqlite' | 'redis' | 'none';
  n: number;
  steps: number;
  latencyMs: number;
  wallMs: number;
  idealMs: number;
  completed: number;
  failures: string[];
  retries: number;
  baselineRss: number;
  peakRss: number;
  rssPerTask: number;
  heapPerTask: number;
  /** Bytes of one child's conversation (JSON), what "its messages" hold. */
  messageBytesPerTask: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  storeBusyMs?: number;
  storeCalls?: Record<string, { count: number; us: number; maxUs: number }>;
  server: ModelServerStats;
  /** `--store=redis`: what the Redis did in the window (`INFO commandstats`, `INFO cpu`), and per model step (`n × steps`). */
  redis?: RedisWindow & { callsPerStep: number; cpuMsPerStep: number };
  /** `--tracing`: what reached the OTLP collector (export requests, bytes). */
  /** `flushCpuMs`: the CPU of exporting the window's spans still queued after it (serialized and sent then, not during it). */
  tracing?: { exportRequests: number; exportBytes: number; flushCpuMs: number };
}
