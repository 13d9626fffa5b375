import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../../src/config/schema.js';
import { Runtime } from '../../src/runtime.js';
import type { TaskStore } from '../../src/tasks/store/task-store.js';
import type { TaskSpec } from '../../src/tasks/task-record.js';

/** A directory removed by `cleanup`. */
export function tempDir(prefix: string, dirs: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export function removeDirs(dirs: string[]): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A runtime (one "process") on `store`, its children answered by the scripted server at `baseUrl`. */
export function runtimeOn(store: TaskStore, baseUrl: string, cwd: string): Runtime {
  const config = configSchema.parse({ model: { provider: 'openai', name: 'm', base_url: baseUrl, api_key: 'sk-test-tasks-0001', max_retries: 0 } });
  return new Runtime({ loaded: { config, file: undefined, home: cwd, unset: new Map() }, cwd, store });
}

export function childSpec(goal: string, cwd: string, sessionId = 's_tasks0000001'): TaskSpec {
  return { goal, model: 'm', depth: 1, sessionId, mode: 'async', cwd, toolsets: ['file'] };
}

/** `store` with some methods replaced; the rest pass through. */
export function intercept(store: TaskStore, overrides: Partial<TaskStore>): TaskStore {
  return new Proxy(store, {
    get(target, property) {
      const override = (overrides as Record<PropertyKey, unknown>)[property];
      if (override) return override;
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** A promise and the function that resolves it. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
