import { statSync } from 'node:fs';
import type { RunResult } from '../../agent/events.js';
import type { RunControl, TaskRunner } from '../task-execution.js';
import type { TaskRecord } from '../task-record.js';

/** What a worker has to run tasks with: its own config's routes and toolsets (MCP servers are toolsets named after them). */
export interface WorkerCapabilities {
  /** This worker's owner id, named in the error. */
  owner(): string;
  hasRoute(route: string): boolean;
  toolsets(): ReadonlySet<string>;
  /** Whether `path` is a directory here (default: the file system). */
  isDirectory?(path: string): boolean;
}

/**
 * What this worker lacks to run `task`, one phrase each: the working directory (the same path must
 * exist here), the route, the toolsets and MCP servers it names. Empty when it can run it.
 */
export function missingCapabilities(task: TaskRecord, worker: WorkerCapabilities): string[] {
  const missing: string[] = [];
  const isDirectory = worker.isDirectory ?? directoryExists;
  if (!isDirectory(task.cwd)) missing.push(`no working directory "${task.cwd}"`);
  // A worktree child works in its worktree, under the LEGATE_HOME of the process that spawned it.
  if (task.worktree && !isDirectory(task.worktree.path)) {
    missing.push(`no worktree "${task.worktree.path}" (isolation "worktree" needs the repository and the worktree at the same paths here)`);
  }
  if (task.route !== undefined && !worker.hasRoute(task.route)) missing.push(`no route "${task.route}" in its delegation.routes`);
  const known = worker.toolsets();
  const absent = (task.toolsets ?? []).filter((name) => !known.has(name));
  if (absent.length > 0) missing.push(`no toolset or MCP server ${absent.map((name) => `"${name}"`).join(', ')}`);
  return missing;
}

/**
 * A runner that first checks the task can run here: a task this worker cannot run fails, without
 * a model call, with an error naming what is missing and the worker (another worker with the right
 * config would have to be the one taking it).
 */
export class CapabilityCheckedRunner implements TaskRunner {
  constructor(
    private readonly inner: TaskRunner,
    private readonly worker: WorkerCapabilities,
  ) {}

  run(task: TaskRecord, control: RunControl): Promise<RunResult> {
    const missing = missingCapabilities(task, this.worker);
    if (missing.length === 0) return this.inner.run(task, control);
    return Promise.resolve({
      status: 'failed',
      exitReason: 'error',
      error: `worker_cannot_run: task "${task.id}" cannot run on worker ${this.worker.owner()}: ${missing.join('; ')}`,
      final: '',
      messages: [],
      usage: { inputTokens: 0, outputTokens: 0 },
      apiCalls: 0,
    });
  }
}

function directoryExists(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    // no such directory: the capability check reports it
    return false;
  }
}
