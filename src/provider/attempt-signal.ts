import { LegateError } from '../errors.js';

/** The abort reason of an attempt cut short by its idle timeout (not by the caller). */
export class AttemptTimeoutError extends LegateError {
  constructor(timeoutMs: number) {
    super('timeout', `no response data for ${timeoutMs} ms`, { timeoutMs });
    this.name = 'AttemptTimeoutError';
  }
}

export interface AttemptSignal {
  /** Aborts when the caller's signal does, or when no activity was seen for `timeoutMs`. */
  signal: AbortSignal;
  /** Restarts the idle timer: data arrived. */
  touch(): void;
  /** Stops the timer and unlinks from the caller's signal. */
  dispose(): void;
}

/**
 * The signal for one attempt: the caller's cancellation plus an idle timeout covering both the wait
 * for the response to start and every gap between streamed chunks (a hung server).
 */
export function createAttemptSignal(parent: AbortSignal, timeoutMs: number | undefined): AttemptSignal {
  const controller = new AbortController();
  const onParentAbort = (): void => controller.abort(parent.reason);
  let timer: NodeJS.Timeout | undefined;
  let disposed = false;
  // One timer per attempt, re-armed in place (`refresh`): touched for every chunk, it allocates nothing.
  const arm = (): void => {
    if (disposed || timeoutMs === undefined || timeoutMs <= 0 || controller.signal.aborted) return;
    if (timer) timer.refresh();
    else timer = setTimeout(() => controller.abort(new AttemptTimeoutError(timeoutMs)), timeoutMs);
  };
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener('abort', onParentAbort, { once: true });
  arm();
  return {
    signal: controller.signal,
    touch: arm,
    dispose: () => {
      disposed = true;
      clearTimeout(timer);
      parent.removeEventListener('abort', onParentAbort);
    },
  };
}
