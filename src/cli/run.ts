import { reportsUsage } from '../acp/acp-routes.js';
import { type Budget, budgetFrom } from '../budget/budget.js';
import { estimateCost, tokenCounts, usageView } from '../delegation/usage-view.js';
import { errorMessage, LegateError } from '../errors.js';
import { reasoningText } from '../provider/reasoning-text.js';
import type { Message } from '../provider/types.js';
import { addUsage, emptyUsage, type Usage } from '../provider/types.js';
import type { Runtime } from '../runtime.js';
import { Session } from '../session.js';
import { oneLine } from '../tasks/output-lines.js';
import type { TaskRecord } from '../tasks/task-record.js';
import { type GlobalOptions, logOf, openRuntime, type Streams, sharedStoreUrl } from './context.js';
import { parentTextLine, progressLine, runTaskLine } from './progress.js';
import { armStopBound, stopBoundSeconds } from './stop-bound.js';
import { waitThroughOutages } from './store-outage.js';
import { WaitLine } from './tui/wait-line.js';

export interface RunOptions extends GlobalOptions {
  json?: boolean;
  /** With `json`: the parent's reasoning too, each reply's thinking as one entry (`reasoning`). */
  reasoning?: boolean;
  /** false with --no-wait: do not wait for background tasks after the final answer. */
  wait?: boolean;
  /** `--model NAME`: the parent's model instead of `model.name`. */
  model?: string;
  /** `--dispatch-only` (shared mode): the children go on the shared queue, for workers elsewhere. */
  dispatchOnly?: boolean;
  /** `--budget-tokens N`, `--budget-usd X`: the run's budget (the parent and every task below it), instead of `agent.budget`. */
  budgetTokens?: string;
  budgetUsd?: string;
}

/** The run's budget from its flags; `invalid_arguments` naming a flag whose value is not a positive number. */
export function runBudget(options: RunOptions): Budget | undefined {
  const read = (flag: string, value: string | undefined, integer: boolean): number | undefined => {
    if (value === undefined) return undefined;
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number) || number <= 0 || (integer && !Number.isInteger(number))) {
      throw new LegateError('invalid_arguments', `${flag} must be a positive ${integer ? 'whole number' : 'number'}, got ${JSON.stringify(value)}`);
    }
    return number;
  };
  return budgetFrom({ tokens: read('--budget-tokens', options.budgetTokens, true), cost_usd: read('--budget-usd', options.budgetUsd, false) });
}

/** `run --json` refused before its run started: the result says why (`status: failed`, the error and its code). */
export function writeRunFailure(error: unknown, streams: Streams): void {
  const fields = {
    final: '',
    status: 'failed',
    exit_reason: 'error',
    error: errorMessage(error),
    ...(error instanceof LegateError ? { error_code: error.code } : {}),
  };
  streams.stdout.write(`${JSON.stringify(fields, null, 2)}\n`);
}

/** Rounds of "tasks ended → one more parent turn" before `run` stops waiting. */
const maxNoticeRounds = 10;

/** The exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells report it. */
export const interruptedExitCode = 130;

/**
 * The prompt `run` was given: `-` reads it from stdin. An empty prompt is a usage error
 * (`invalid_arguments`), refused before anything is opened.
 */
export async function readPrompt(prompt: string, streams: Streams): Promise<string> {
  let text = prompt;
  if (prompt === '-') {
    let input = '';
    for await (const chunk of streams.stdin) input += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    text = input;
  }
  if (text.trim() === '') {
    throw new LegateError(
      'invalid_arguments',
      prompt === '-' ? 'the prompt read from stdin is empty' : 'the prompt is empty; say what the agent should do (or `-` to read it from stdin)',
    );
  }
  return text;
}

/**
 * `legate run "<prompt>"`: one parent turn to its final answer (stdout), progress on stderr (also
 * with --json, which keeps stdout for the JSON). If the parent answers while its background tasks
 * still run, wait for them and give it one more turn with their completion notices (unless
 * --no-wait). Ctrl-C stops the run (exit 130) and hands running tasks back as `interrupted`;
 * whenever tasks are left behind, stderr says which and how to continue them.
 */
export async function runCommand(prompt: string, options: RunOptions, streams: Streams, runtime?: Runtime): Promise<number> {
  const log = logOf(streams);
  const budget = runBudget(options);
  const rt =
    runtime ?? (await openRuntime(options, streams, { ...(options.model ? { modelName: options.model } : {}), dispatchOnly: options.dispatchOnly === true }));
  let session: Session;
  try {
    session = new Session(rt, undefined, undefined, budget ? { budget } : {});
  } catch (error) {
    // A USD budget on an unpriced model: refused before anything runs.
    if (!runtime) await rt.close();
    throw error;
  }
  const sharedUrl = sharedStoreUrl(rt.config, streams.env);
  const tty = Boolean((streams.stderr as { isTTY?: boolean }).isTTY);
  const waitLine = new WaitLine(streams.stderr, tty);
  const say = (line: string | undefined): void => {
    if (line !== undefined) waitLine.say(line);
  };
  session.agent.subscribe((event) => {
    const line = parentTextLine(event) ?? progressLine(event);
    say(line);
    // Task lines are logged for every command by openRuntime; the parent's own lines here.
    if (line) log.record(line.trim());
    if (event.type === 'model.started') log.detail(`model call ${event.iteration} (parent, ${event.model})`);
    if (event.type === 'model.finished')
      log.detail(
        `model call ${event.iteration} done: ${event.usage.inputTokens} in, ${event.usage.outputTokens} out, ` +
          `${event.toolCalls} tool call${event.toolCalls === 1 ? '' : 's'}`,
      );
  });
  const unsubscribe = rt.tasks.subscribe((event) => {
    if (event.type === 'task.activity' || event.type === 'task.approval_answered' || event.type === 'task.steers_taken') return;
    if (event.type === 'task.steered' || event.type === 'task.store_error') {
      if (event.sessionId === session.id) say(runTaskLine(event));
      return;
    }
    if (event.task.sessionId !== session.id) return;
    waitLine.update(event.task);
    say(runTaskLine(event));
  });
  const controller = new AbortController();
  let interrupted = false;
  let exitOnSignal = interruptedExitCode;
  let jsonWritten = false;
  /** `--json`: one result on stdout whatever the exit (a failure, a bounded stop), written once. */
  const writeJson = (result: Record<string, unknown>): void => {
    if (!options.json || jsonWritten) return;
    jsonWritten = true;
    streams.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  };
  const failureJson = (error: unknown): Record<string, unknown> => ({
    final: '',
    status: interrupted ? 'cancelled' : 'failed',
    ...(interrupted ? { interrupted: true } : {}),
    exit_reason: interrupted ? 'interrupted' : 'error',
    error: errorMessage(error),
    ...(error instanceof LegateError ? { error_code: error.code } : {}),
    session_id: session.id,
    api_calls: session.apiCalls,
  });
  let disarm = (): void => {};
  // The first Ctrl-C or SIGTERM stops the run; its stop is bounded (tasks.lease_seconds + 5 s) whatever the store and model server do.
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) {
      // A second signal: the user does not wait for the orderly stop.
      if (runtime) return; // in process (a library caller, a test): never exit its process
      streams.stderr.write('legate: stopping now (second signal); tasks not handed back are taken over once their lease runs out\n');
      writeJson(failureJson(new LegateError('aborted', 'the run was stopped (a second signal) before it finished stopping')));
      process.exit(exitOnSignal);
    }
    interrupted = true;
    exitOnSignal = signal === 'SIGTERM' ? 143 : interruptedExitCode;
    const bound = stopBoundSeconds(rt.config.tasks.lease_seconds);
    disarm = armStopBound(
      bound,
      (line) => streams.stderr.write(`${line}\n`),
      exitOnSignal,
      () => writeJson(failureJson(new LegateError('aborted', `the run was stopped and did not finish stopping within ${bound} s`))),
    );
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  log.record(`session ${session.id} in ${rt.cwd}`);
  try {
    let result = await session.turn(prompt, controller.signal);
    for (let round = 0; options.wait !== false && result.status === 'completed' && round < maxNoticeRounds; round++) {
      // Unreadable now (Redis down in shared mode): the wait below waits the outage out.
      const open = (await rt.tasks.list(session.id).catch(() => [])).filter(
        (task) => task.status === 'queued' || task.status === 'running' || task.status === 'input_required',
      );
      if (open.length > 0) waitLine.start(open);
      const waitForSession = () => rt.tasks.waitForSession(session.id, controller.signal);
      // Shared mode: the tasks live on in Redis and on the workers through an outage; wait it out.
      if (sharedUrl === undefined) await waitForSession();
      else
        await waitThroughOutages(
          sharedUrl,
          waitForSession,
          () => rt.tasks.list(session.id, { limit: 1 }),
          (line) => waitLine.say(line),
          controller.signal,
        );
      waitLine.stop();
      if (controller.signal.aborted) break;
      const notices = await session.takeNotices();
      if (!notices) break;
      result = await session.turn(notices, controller.signal);
    }
    waitLine.stop();
    // Tasks still running stop here (handed back as interrupted); say what was left and how to go on.
    await rt.tasks.shutdown();
    const tasks = await rt.tasks.list(session.id);
    const left = tasks.filter(
      (task) =>
        task.depth === 1 && (task.status === 'queued' || task.status === 'running' || task.status === 'input_required' || task.status === 'interrupted'),
    );
    if (interrupted)
      streams.stderr.write(
        `legate: interrupted (Ctrl-C): the run stopped${result.status === 'completed' ? ' while waiting for background tasks' : ' before its final answer'}\n`,
      );
    if (left.length > 0) streams.stderr.write(options.dispatchOnly ? leftOnTheQueue(left) : leftBehind(left));
    if (options.json) {
      const childUsage = tasks.reduce((sum, task) => addUsage(sum, task.usage), emptyUsage());
      writeJson({
        final: result.final,
        status: result.status,
        ...(interrupted ? { interrupted: true } : {}),
        exit_reason: result.exitReason,
        ...(result.error ? { error: result.error } : {}),
        session_id: session.id,
        api_calls: session.apiCalls,
        ...(options.reasoning ? { reasoning: parentReasoning(result.messages) } : {}),
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
          usage: usageView(task.usage, task.model, { prices: rt.config.prices, reportsUsage }),
        })),
      });
    } else if (result.status === 'completed') {
      streams.stdout.write(`${result.final}\n`);
    }
    if (interrupted) return exitOnSignal;
    if (result.status !== 'completed') {
      streams.stderr.write(`legate: run ${result.status} (${result.exitReason}): ${result.error ?? 'no answer'}\n`);
      return 1;
    }
    return 0;
  } catch (error) {
    waitLine.stop();
    streams.stderr.write(`legate: ${errorMessage(error)}\n`);
    writeJson(failureJson(error));
    if (interrupted) return exitOnSignal;
    return error instanceof LegateError && error.code === 'invalid_arguments' ? 2 : 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    unsubscribe();
    if (!runtime) await rt.close();
    disarm();
  }
}

/** What happened to the tasks a run leaves behind, and the commands that continue them. */
function leftBehind(tasks: TaskRecord[]): string {
  const count = `${tasks.length} background task${tasks.length === 1 ? '' : 's'}`;
  const lines = tasks.map((task) => `  ${task.id} ${task.status}: ${oneLine(task.goal, 70)}`);
  const one = tasks[0]!.id;
  return [
    `legate: ${count} did not finish in this run and ${tasks.length === 1 ? 'was' : 'were'} ` +
      `handed back (interrupted tasks continue from their last checkpoint):`,
    ...lines,
    `  continue with:  legate worker   (runs every queued and interrupted task; --until-idle stops when none is left)`,
    `  or one task:    legate tasks resume ${one}`,
    `  see them:       legate tasks list`,
    '',
  ].join('\n');
}

/** `--dispatch-only`: the tasks were never run here, so nothing was handed back; workers run them. */
function leftOnTheQueue(tasks: TaskRecord[]): string {
  const count = `${tasks.length} background task${tasks.length === 1 ? '' : 's'}`;
  const where = (task: TaskRecord): string =>
    task.status === 'queued' ? 'waits for a worker' : task.status === 'interrupted' ? 'waits for a worker to resume it' : `${task.status} on a worker`;
  return [
    `legate: ${count} of this run ${tasks.length === 1 ? 'is' : 'are'} on the shared queue; legate worker processes run ${tasks.length === 1 ? 'it' : 'them'}:`,
    ...tasks.map((task) => `  ${task.id} ${where(task)}: ${oneLine(task.goal, 70)}`),
    `  follow them:    legate tasks list   or   legate tasks collect ${tasks[0]!.id}`,
    '',
  ].join('\n');
}

/** `cost_usd` over the parent and its children, when every model involved has a price in config. */
function costOf(runtime: Runtime, parentUsage: Usage, tasks: TaskRecord[]): { cost_usd?: number } {
  const prices = runtime.config.prices;
  const parentPrice = prices[runtime.endpoints.parent.model];
  if (!parentPrice || tasks.some((task) => !prices[task.model])) return {};
  const total = tasks.reduce((sum, task) => sum + estimateCost(task.usage, prices[task.model]!), estimateCost(parentUsage, parentPrice));
  return { cost_usd: Math.round(total * 1_000_000) / 1_000_000 };
}

/** The parent's thinking, one entry per reply that had some, in order (`run --json --reasoning`). */
function parentReasoning(messages: readonly Message[]): string[] {
  return messages.flatMap((message) => (message.role === 'assistant' ? [reasoningText(message)] : [])).filter((text) => text !== '');
}
