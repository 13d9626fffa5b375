import type { TaskStore } from '../src/tasks/store/task-store.js';
import { nowUs } from './common.js';

/**
 * Wraps a TaskStore and adds up the time its methods spend before returning their promise. Both
 * backends do all their work synchronously inside the call (better-sqlite3 is synchronous; the
 * memory store clones), so this is the store's CPU cost, without the event-loop wait of `await`.
 */
export function timedStore(store: TaskStore): { store: TaskStore; busyUs: () => number; calls: () => Record<string, { count: number; us: number; maxUs: number }>; reset: () => void } {
  let busy = 0;
  let byMethod: Record<string, { count: number; us: number; maxUs: number }> = {};
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'close') return value;
      return (...args: unknown[]) => {
        const started = nowUs();
        try {
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        } finally {
          const spent = nowUs() - started;
          busy += spent;
          const entry = (byMethod[String(property)] ??= { count: 0, us: 0, maxUs: 0 });
          entry.count++;
          entry.us += spent;
          entry.maxUs = Math.max(entry.maxUs, spent);
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
