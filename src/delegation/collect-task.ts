import { LegateError, quoted } from '../errors.js';
import type { TaskRecord } from '../tasks/task-record.js';
import { define, type OperationContext } from './operation.js';
import { type FitPart, fitResult } from './result-fit.js';
import { collectTaskParameters } from './schemas.js';
import type { DelegationSession } from './session.js';
import { defaultMaxSummaryChars } from './summary-cap.js';
import { collectView } from './views.js';

/**
 * `collect_task`: wait for one task (`task_id`) or several (`task_ids`, `wait: all | any`) to end.
 * A task whose result is returned whole is marked reported; one still running is not, and keeps
 * running. Every id is checked before anything is waited for or collected.
 */
export const collectTask = define({
  name: 'collect_task',
  description:
    'Wait for background tasks to end (up to timeout seconds, default 300) and return their summaries. ' +
    'Give task_id for one task (returns its result object), or task_ids: [...] for several ' +
    '(returns {results: [...]}, one result object per task in the order given); with task_ids, wait: "all" (default) waits for every task, ' +
    'wait: "any" returns as soon as one has ended and lists the others with status running (collect them later). ' +
    'On timeout each unfinished task comes back with its partial output and timed_out: true, and keeps running.',
  parameters: collectTaskParameters,
  async run(args, session, context) {
    if (args.task_id !== undefined) {
      const stopTicking = context.progress ? tickWhileWaiting(session, [args.task_id], args.timeout, context.progress) : () => {};
      const { task } = await session.service.waitForEnd(session.sessionId, args.task_id, args.timeout * 1000, context.signal).finally(stopTicking);
      const entry = await collectEntry(session, task, true);
      return fitResult([entry.part], maxSummaryOf(session), ([share], [output]) => entry.render(share!, output!));
    }
    const ids = args.task_ids!;
    await assertKnown(session, ids);
    const stopTicking = context.progress ? tickWhileWaiting(session, ids, args.timeout, context.progress) : () => {};
    const timedOut = await waitFor(session, ids, args.wait, args.timeout * 1000, context.signal).finally(stopTicking);
    const tasks = await Promise.all(ids.map((id) => session.service.get(session.sessionId, id)));
    const entries: Array<Awaited<ReturnType<typeof collectEntry>>> = [];
    for (const task of tasks) entries.push(await collectEntry(session, task, timedOut));
    const running = tasks.filter((task) => !session.service.isSettled(task)).length;
    // The results share the tool output cap: output tails shorten first, then the summaries' shares of one cap.
    return fitResult(
      entries.map((entry) => entry.part),
      maxSummaryOf(session),
      (shares, outputs) => ({
        wait: args.wait,
        timed_out: timedOut,
        ended: tasks.length - running,
        running,
        results: entries.map((entry, index) => entry.render(shares[index]!, outputs[index]!)),
        ...(timedOut ? { note: 'timed out waiting; the unfinished tasks keep running. Collect them again later, check them, or cancel them.' } : {}),
      }),
    );
  },
});

/**
 * What a single collect returns, rendered with a summary cap and output lines (so a batch can fit
 * the tool output cap). An ended task is marked reported (its result reached the parent); an
 * unfinished one is not, and reads `timed_out` when the wait ran out (`waitedOut`).
 */
async function collectEntry(
  session: DelegationSession,
  task: TaskRecord,
  waitedOut: boolean,
): Promise<{ part: FitPart; render(maxSummaryChars: number, output: string[]): Record<string, unknown> }> {
  const done = session.service.isSettled(task);
  const { output, steers } = await session.service.trail(session.sessionId, task.id);
  if (done) await session.service.markReported(session.sessionId, task.id);
  return {
    part: { summaryLength: task.summary?.length ?? 0, output },
    render: (maxSummaryChars, lines) => ({
      ...collectView(task, lines, steers, !done && waitedOut, session, maxSummaryChars),
      ...(!done && !waitedOut ? { note: 'still running (another task ended first); collect it later, check it, or cancel it.' } : {}),
    }),
  };
}

function maxSummaryOf(session: DelegationSession): number {
  return session.maxSummaryChars ?? defaultMaxSummaryChars;
}

/** `task_not_found` naming every id the caller cannot see; nothing is collected then. */
async function assertKnown(session: DelegationSession, ids: string[]): Promise<void> {
  const unknown: string[] = [];
  for (const id of ids) {
    await session.service.get(session.sessionId, id).catch((error: unknown) => {
      if (!(error instanceof LegateError) || error.code !== 'task_not_found') throw error;
      unknown.push(id);
    });
  }
  if (unknown.length === 0) return;
  const where = session.sessionId.kind === 'session' ? 'in this session' : 'in this LEGATE_HOME';
  throw new LegateError('task_not_found', `no task ${unknown.map((id) => quoted(id)).join(', ')} ${where}; nothing was collected`, { taskIds: unknown });
}

/**
 * Wait until every task (`all`) or the first of them (`any`) has ended, or `timeoutMs` passes, or
 * `signal` aborts. Resolves true when the wait ran out with its condition unmet.
 */
async function waitFor(session: DelegationSession, ids: string[], wait: 'all' | 'any', timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  // One signal for every waiter: the caller's abort, or (for `any`) the first end, releases them all.
  const release = new AbortController();
  const onAbort = (): void => release.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const waits = ids.map(async (id) => {
      const { timedOut } = await session.service.waitForEnd(session.sessionId, id, timeoutMs, release.signal);
      if (!timedOut && wait === 'any') release.abort();
      return timedOut;
    });
    const outcomes = await Promise.all(waits);
    return wait === 'all' ? outcomes.some(Boolean) : outcomes.every(Boolean);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** How often a waiting collect_task reports progress, when its caller listens. */
const collectProgressIntervalMs = 1000;

/**
 * While collect_task waits: every second, progress = seconds waited of `timeoutSeconds`, with the
 * tasks' status and current activity as the message. Returns the function that stops it.
 */
function tickWhileWaiting(
  session: DelegationSession,
  taskIds: string[],
  timeoutSeconds: number,
  progress: NonNullable<OperationContext['progress']>,
): () => void {
  const started = Date.now();
  let stopped = false;
  let last = 0;
  const timer = setInterval(() => {
    const waited = Math.round((Date.now() - started) / 100) / 10;
    void Promise.all(taskIds.map((id) => session.service.get(session.sessionId, id))).then(
      (tasks) => {
        // Never after the result, never going backwards (MCP requires increasing progress).
        if (stopped || waited <= last) return;
        last = waited;
        const describe = (task: TaskRecord): string =>
          `task ${task.id} ${task.status}${task.lastActivity ? ` (${task.lastActivity})` : ''}, ${task.apiCalls} model call${task.apiCalls === 1 ? '' : 's'}`;
        const message =
          tasks.length === 1
            ? describe(tasks[0]!)
            : `${tasks.filter((task) => session.service.isSettled(task)).length} of ${tasks.length} tasks ended; ${tasks
                .filter((task) => !session.service.isSettled(task))
                .map(describe)
                .join('; ')}`;
        progress(waited, timeoutSeconds, message);
      },
      () => {},
    );
  }, collectProgressIntervalMs);
  timer.unref?.();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
