/**
 * The last resort of a bounded stop: once a command has been told to stop (Ctrl-C, SIGTERM), it exits
 * within `seconds` whatever its store and model server do. The orderly stop (hand running tasks back,
 * close the store) normally ends well before; when a write hangs (Redis down, a lock never answered),
 * this timer says so and exits, and the tasks it could not hand back are taken over once their lease
 * runs out. The timer is unreferenced: it never keeps a process alive that is done. `last` runs just
 * before the exit (`run --json` prints its result there).
 */
export function armStopBound(seconds: number, say: (line: string) => void, exitCode = 1, last?: () => void): () => void {
  const timer = setTimeout(() => {
    say(
      `legate: still stopping after ${seconds} s (the store or the model server does not answer); exiting now. ` +
        'Tasks not handed back are taken over once their lease runs out.',
    );
    last?.();
    process.exit(exitCode);
  }, seconds * 1000);
  timer.unref();
  return () => clearTimeout(timer);
}

/** The bound of a stop: a lease (tasks.lease_seconds) for the hand-back, and 5 s to close. */
export function stopBoundSeconds(leaseSeconds: number): number {
  return leaseSeconds + 5;
}
