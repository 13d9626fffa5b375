/**
 * `work`'s value, or undefined as soon as `signal` is aborted (or when `work` rejects): for a wait
 * that must end on a stop or a deadline while the work itself (a store call retrying through an
 * outage) goes on unawaited.
 */
export function unlessAborted<T>(work: Promise<T> | undefined, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted || work === undefined) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = (value: T | undefined): void => {
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    };
    work.then(settle, () => settle(undefined));
  });
}
