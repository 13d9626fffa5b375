import { describe, expect, it } from 'vitest';
import { storeConformance as runConformance, taskFixture } from '../../src/tasks/store/conformance.js';
import type { TaskStore } from '../../src/tasks/store/task-store.js';

export { taskFixture };

/** The library's conformance suite (`src/tasks/store/conformance.ts`) under vitest. `open` returns a fresh, empty store. */
export function storeConformance(name: string, open: () => Promise<TaskStore>): void {
  runConformance(name, { create: open }, { describe, it, expect });
}
