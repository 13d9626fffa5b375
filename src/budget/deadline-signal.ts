import type { LegateError } from '../errors.js';

/**
 * `signal`, also aborted at `deadline.at` (epoch ms) with `deadline.reason`: a `seconds` budget
 * aborts the call in flight. `dispose` clears the timer once the run is over.
 */
export function withDeadline(signal: AbortSignal, deadline: { at: number; reason: LegateError }): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const forward = (): void => controller.abort(signal.reason);
  if (signal.aborted) forward();
  else signal.addEventListener('abort', forward, { once: true });
  const timer = setTimeout(() => controller.abort(deadline.reason), Math.max(0, deadline.at - Date.now()));
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', forward);
    },
  };
}
