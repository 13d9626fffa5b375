import type { FanoutResult } from './fanout-result.js';
import type { InflightResult } from './inflight-floor.js';
import type { LifecycleResult } from './lifecycle.js';
import type { ProfileSummary } from './profile-summary.js';

/** Everything one `npm run bench` measured, and its rendering as bench/RESULTS.md. */
export interface BenchRun {
  date: string;
  uname: string;
  cpu: string;
  node: string;
  command: string;
  peerVersion: string;
  openaiVersion: string;
  /** `ai` and `@ai-sdk/openai-compatible`, the second peer (absent in runs before it was added). */
  aiSdkVersion?: string;
  aiSdkProviderVersion?: string;
  durationSeconds: number;
  /** 1, 5 and 15 minute load averages when the run started and ended (other work on the machine). */
  loadAverage: { before: number[]; after: number[] };
  quick: boolean;
  reps: number;
  fanout: FanoutResult[];
  lifecycle: LifecycleResult[];
  /** Lifecycle runs with `--yield` (each spawn timed until the event loop turned once); absent in older runs. */
  spawnTurn?: LifecycleResult[];
  inflight: InflightResult[];
  profiles: { title: string; command: string; summary: ProfileSummary; markdown: string }[];
}
