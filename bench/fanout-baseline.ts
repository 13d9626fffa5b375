import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { flags, type ModelServerHandle, report, scratchDir, startModelServer } from './common.js';
import type { FanoutResult } from './fanout-result.js';
import { settledFanoutResult } from './fanout-window.js';

/**
 * What every fan-out without legate (the floor, @openai/agents, the Vercel AI SDK) sets up the
 * same way: the flags (`--n`, `--latency`, `--steps`, `--warmup`, `--profile`), the scripted server
 * in fan-out mode, a scratch directory; and how it ends: N children of `runChild` side by side under
 * `Promise.allSettled`, measured and reported.
 */
export interface FanoutBaseline {
  options: Map<string, string>;
  steps: number;
  server: ModelServerHandle;
  scratch: { dir: string; dispose(): void };
  /** Measure the fan-out of `runChild` (its goal: `goalPrefix` + label, index and the task) and report it. */
  finish(impl: FanoutResult['impl'], runChild: (goal: string) => Promise<string>, goalPrefix: string): Promise<void>;
}

export async function fanoutBaseline(): Promise<FanoutBaseline> {
  const options = flags();
  const n = Number(options.get('n') ?? 100);
  const latencyMs = Number(options.get('latency') ?? 200);
  const steps = Number(options.get('steps') ?? 3);
  const warmup = Number(options.get('warmup') ?? 8);
  const server = await startModelServer({ mode: 'fanout', latencyMs, steps });
  const scratch = scratchDir();
  return {
    options,
    steps,
    server,
    scratch,
    async finish(impl, runChild, goalPrefix) {
      const fanOut = (count: number, label: string): Promise<PromiseSettledResult<string>[]> =>
        Promise.allSettled(
          Array.from({ length: count }, (_, index) => runChild(`${goalPrefix}${label} ${index}: list the working directory and report what is in it`)),
        );
      await report(await settledFanoutResult(impl, fanOut, { n, steps, latencyMs, warmup, profile: options.get('profile'), server, scratch }));
    },
  };
}

/** The peers' `list_dir` tool: a directory's entries as legate's list_dir gives them (sorted, directories ending with "/"). */
export const listDirDescription = 'List the entries of a directory (not recursive), sorted by name, one per line. Directories end with "/".';
export const listDirPathDescription = 'Directory to list, absolute or relative to the working directory.';

export async function listDirText(cwd: string, path: string): Promise<string> {
  const dir = resolve(cwd, path);
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name)).sort((a, b) => a.localeCompare(b));
  return `${dir} (${names.length} entries)\n${names.join('\n')}`;
}
