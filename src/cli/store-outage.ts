import { errorMessage, LegateError } from '../errors.js';
import { sleep } from '../provider/sleep.js';
import { maskRedisUrl } from '../tasks/store/redis/redis-connection.js';
import { unlessAborted } from '../tasks/unless-aborted.js';

/** How often the store is asked whether it answers, and how long an answer may take before it is an outage. */
const probeEveryMs = 2_000;
const answerWithinMs = 5_000;

/**
 * Waits with `wait` (for tasks that live in the Redis at `url` and run on workers) through any Redis
 * outage, as long as it lasts or until `signal`: `probe` (a cheap read) is asked every 2 s; one that
 * fails or takes over 5 s is said once on `say` ("waiting for the Redis at URL"), and so is the end of
 * the outage. A `store_unavailable` from `wait` starts it again instead of ending the wait.
 */
export async function waitThroughOutages(
  url: string,
  wait: () => Promise<void>,
  probe: () => Promise<unknown>,
  say: (line: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const masked = maskRedisUrl(url);
  let down = false;
  const outage = (why: string): void => {
    if (down) return;
    down = true;
    say(`legate: waiting for the Redis at ${masked} (${why}): the tasks go on on the workers; waiting as long as the outage lasts (Ctrl-C stops)`);
  };
  const watching = new AbortController();
  const stop = AbortSignal.any([signal, watching.signal]);
  const watch = (async () => {
    while (!stop.aborted) {
      // One probe at a time: while Redis is down a read waits through its reconnection attempts.
      const slow = setTimeout(() => outage(`no answer for ${answerWithinMs / 1000} s`), answerWithinMs);
      const answered = await unlessAborted(
        probe().then(
          () => true,
          (error: unknown) => {
            outage(errorMessage(error));
            return false;
          },
        ),
        stop,
      );
      clearTimeout(slow);
      if (answered && down) {
        down = false;
        say(`legate: the Redis at ${masked} answers again`);
      }
      await sleep(probeEveryMs, stop).catch(() => {});
    }
  })();
  try {
    for (;;) {
      try {
        await wait();
        return;
      } catch (error) {
        if (signal.aborted || !(error instanceof LegateError && error.code === 'store_unavailable')) throw error;
        outage(errorMessage(error));
        await sleep(probeEveryMs, signal).catch(() => {});
      }
    }
  } finally {
    watching.abort();
    await watch;
  }
}
