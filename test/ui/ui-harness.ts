import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { LegateError } from '../../src/errors.js';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import type { TaskStore } from '../../src/tasks/store/task-store.js';
import { operator, TaskService } from '../../src/tasks/task-service.js';
import { type Dashboard, type DashboardOptions, startDashboard } from '../../src/ui/dashboard-server.js';
import { TaskOwnerDirectory } from '../../src/ui/worker-directory.js';
import { WorktreeManager } from '../../src/worktrees/worktree-manager.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A SQLite store in a temp dir, a reading task service on it, and a dashboard on a free port; all closed after the test. */
export async function dashboardOn(options: Partial<DashboardOptions> = {}): Promise<{ dashboard: Dashboard; store: TaskStore; file: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'legate-ui-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'state.db');
  const store = SqliteTaskStore.open(file);
  cleanups.push(() => store.close());
  const tasks = new TaskService({
    store,
    maxConcurrent: 1,
    runner: { run: (task) => Promise.reject(new LegateError('invalid_arguments', `task "${task.id}" cannot run here`)) },
  });
  cleanups.push(async () => void (await tasks.shutdown()));
  const dashboard = await startDashboard({
    tasks,
    sessions: store.sessions,
    port: 0,
    cwd: dir,
    prices: {},
    secrets: [],
    workers: new TaskOwnerDirectory(tasks),
    worktrees: new WorktreeManager(dir),
    resume: (id) => Promise.reject(new LegateError('invalid_arguments', `cannot resume "${id}" here`)),
    answerApproval: (id, answer) => tasks.answerApproval(operator, id, answer),
    feedIntervalMs: 50,
    ...options,
  });
  cleanups.push(() => dashboard.close());
  return { dashboard, store, file, dir };
}

/** One open event stream: its `task` events as they arrive. */
export interface EventReader {
  ready: Promise<void>;
  events: Array<{ event: string; data: any }>;
  close(): void;
}

/** Open `/events` with the token header and collect the events. */
export function readEvents(dashboard: Dashboard): EventReader {
  const controller = new AbortController();
  const events: EventReader['events'] = [];
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  void (async () => {
    const response = await fetch(`${dashboard.origin}/events`, { headers: { 'x-legate-token': dashboard.token }, signal: controller.signal });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data: '))
          .map((line) => line.slice(6))
          .join('\n');
        if (!event) continue;
        if (event === 'ready') markReady();
        else events.push({ event, data: JSON.parse(data) });
      }
    }
  })().catch(() => {});
  cleanups.push(() => controller.abort());
  return { ready, events, close: () => controller.abort() };
}

/** Wait until `check` holds (a condition on state other code changes), polling. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Clean up `close` after the test. */
export function afterTest(close: () => Promise<void> | void): void {
  cleanups.push(close);
}
