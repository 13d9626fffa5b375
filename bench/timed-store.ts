import { WriteBatch } from '../src/tasks/store/sqlite/sqlite-write-batch.js';
import type { TaskStore } from '../src/tasks/store/task-store.js';
import { nowUs } from './common.js';

/**
 * Wraps a TaskStore and adds up the time its methods spend before returning their promise, plus
 * the SQLite store's group commits that run on their own event-loop turn (`WriteBatch.flush`
 * outside any store call, counted as "groupCommit"). Both backends do all their work
 * synchronously, so this is the store's CPU cost, without the event-loop wait of `await`.
 */
export function timedStore(store: TaskStore): {
  store: TaskStore;
  busyUs: () => number;
  calls: () => Record<string, { count: number; us: number; maxUs: number }>;
  reset: () => void;
} {
  let busy = 0;
  let byMethod: Record<string, { count: number; us: number; maxUs: number }> = {};
  let depth = 0;
  const add = (name: string, spent: number): void => {
    busy += spent;
    const entry = (byMethod[name] ??= { count: 0, us: 0, maxUs: 0 });
    entry.count++;
    entry.us += spent;
    entry.maxUs = Math.max(entry.maxUs, spent);
  };
  const flush = WriteBatch.prototype.flush;
  WriteBatch.prototype.flush = function timedFlush(this: WriteBatch): void {
    if (depth > 0 || this.size === 0) return flush.call(this);
    const started = nowUs();
    try {
      flush.call(this);
    } finally {
      add('groupCommit', nowUs() - started);
    }
  };
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'close') return value;
      return (...args: unknown[]) => {
        const started = nowUs();
        depth++;
        try {
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        } finally {
          depth--;
          add(String(property), nowUs() - started);
        }
      };
    },
  });
  const reset = (): void => {
    busy = 0;
    byMethod = {};
  };
  return { store: proxy, busyUs: () => busy, calls: () => byMethod, reset };
}
