import { errorMessage } from '../errors.js';
import { Session } from '../session.js';
import { estimateCost, tokenCounts, usageView } from '../delegation/usage-view.js';
import type { Runtime } from '../runtime.js';
import { addUsage, emptyUsage, type Usage } from '../provider/types.js';
import type { TaskRecord } from '../tasks/task-record.js';
import { openRuntime, type GlobalOptions, type Streams } from './context.js';
import { progressLine, taskLine } from './progress.js';

export interface RunOptions extends GlobalOptions {
  json?: boolean;
  /** false with --no-wait: do not wait for background tasks after the final answer. */
  wait?: boolean;
}

/** Rounds of "tasks ended → one more parent turn" before `run` stops waiting. */
const maxNoticeRounds = 10;

/**
 * `legate run "<prompt>"`: one parent turn to its final answer (stdout), progress on stderr. If
 * the parent answers while its background tasks still run, wait for them and give it one more
 * turn with their completion notices (unless --no-wait).
 */
export async function runCommand(prompt: string, options: RunOptions, streams: Streams, runtime?: Runtime): Promise<number> {
  const rt = runtime ?? (await openRuntime(options, streams));
  const session = new Session(rt);
  const say = (line: string | undefined): void => {
    if (line !== undefined && !options.json) streams.stderr.write(`${line}\n`);
  };
  session.agent.subscribe((event) => say(progressLine(event)));
  const unsubscribe = rt.tasks.subscribe((event) => say(taskLine(event)));
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  try {
    let result = await session.turn(prompt, controller.signal);
    for (let round = 0; options.wait !== false && result.status === 'completed' && round < maxNoticeRounds; round++) {
      const open = await session.openTasks();
      if (open > 0) say(`  … waiting for ${open} background task${open === 1 ? '' : 's'} (--no-wait skips this)`);
      await rt.tasks.waitForSession(session.id, controller.signal);
      const notices = await session.takeNotices();
      if (!notices) break;
      result = await session.turn(notices, controller.signal);
    }
    const tasks = await rt.tasks.list(session.id);
    if (options.json) {
      const childUsage = tasks.reduce((sum, task) => addUsage(sum, task.usage), emptyUsage());
      streams.stdout.write(
        `${JSON.stringify(
          {
            final: result.final,
            status: result.status,
            exit_reason: result.exitReason,
            ...(result.error ? { error: result.error } : {}),
            session_id: session.id,
            api_calls: result.apiCalls,
            usage: {
              ...tokenCounts(addUsage(session.usage, childUsage)),
              parent: tokenCounts(session.usage),
              children: tokenCounts(childUsage),
              ...costOf(rt, session.usage, tasks),
            },
            tasks: tasks.map((task) => ({
              task_id: task.id,
              goal: task.goal.slice(0, 80),
              status: task.status,
              usage: usageView(task.usage, task.model, rt.config.prices),
            })),
          },
          null,
          2,
        )}\n`,
      );
    } else if (result.status === 'completed') {
      streams.stdout.write(`${result.final}\n`);
    }
    if (result.status !== 'completed') {
      streams.stderr.write(`legate: run ${result.status} (${result.exitReason}): ${result.error ?? 'no answer'}\n`);
      return 1;
    }
    return 0;
  } catch (error) {
    streams.stderr.write(`legate: ${errorMessage(error)}\n`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    unsubscribe();
    if (!runtime) await rt.close();
  }
}

/** `cost_usd` over the parent and its children, when every model involved has a price in config. */
function costOf(runtime: Runtime, parentUsage: Usage, tasks: TaskRecord[]): { cost_usd?: number } {
  const prices = runtime.config.prices;
  const parentPrice = prices[runtime.endpoints.parent.model];
  if (!parentPrice || tasks.some((task) => !prices[task.model])) return {};
  const total = tasks.reduce((sum, task) => sum + estimateCost(task.usage, prices[task.model]!), estimateCost(parentUsage, parentPrice));
  return { cost_usd: Math.round(total * 1_000_000) / 1_000_000 };
}
