import type { ReadStream, WriteStream } from 'node:tty';
import { errorMessage } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { Session } from '../session.js';
import { oneLine } from '../tasks/output-lines.js';
import { isTerminal } from '../tasks/status.js';
import { ChatApprovals } from './chat-approvals.js';
import { runChatCommand } from './chat-commands.js';
import { recapLines } from './chat-recap.js';
import { noColors, paletteFor } from './colors.js';
import { type GlobalOptions, openRuntime, type Streams } from './context.js';
import { progressLine, taskLine } from './progress.js';
import { armStopBound, stopBoundSeconds } from './stop-bound.js';
import { type ChatScreen, PlainScreen } from './tui/chat-screen.js';
import { TaskDock } from './tui/task-dock.js';
import { TerminalScreen } from './tui/terminal.js';

export interface ChatOptions extends GlobalOptions {
  /** `--resume [SESSION]`: true for the most recent session in this directory. */
  resume?: string | true;
  /** `--dispatch-only` (shared mode): the children go on the shared queue, for workers elsewhere. */
  dispatchOnly?: boolean;
}

/** How often the store is read for this session's tasks (ended elsewhere, or run by a worker), ms. */
const pollMs = 1000;

/** What Ctrl-C stops now: a turn, a `/collect` wait, or the wait for tasks before leaving. */
interface Activity {
  kind: 'turn' | 'collect' | 'leave';
  label: string;
  /** What Ctrl-C does now, shown after the elapsed time. */
  hint: string;
  since: number;
  controller: AbortController;
}

/**
 * `legate chat`: an interactive session. In a terminal, the transcript scrolls above a live area
 * (status, task dock, queued lines, prompt) that is redrawn in place (see `TerminalScreen`); with
 * pipes, agent text goes to stdout and progress to stderr. Typed lines are handled one at a time,
 * in order; each enters the transcript when its turn starts. A task of the session that ends here
 * or in another process enters the conversation as a new turn (its completion notice), once.
 */
export async function chatCommand(options: ChatOptions, streams: Streams, runtime?: Runtime): Promise<number> {
  const interactive = Boolean((streams.stdin as { isTTY?: boolean }).isTTY && (streams.stdout as { isTTY?: boolean }).isTTY);
  // agent.approval defaults to on-request in chat: the agent's own calls outside its sandbox are
  // put to the user in the terminal (on a pipe there is nobody to ask: refused, as in `legate
  // run`), a child's wait for /approve.
  const approvals = interactive && !runtime ? new ChatApprovals() : undefined;
  const rt =
    runtime ??
    (await openRuntime(options, streams, { approval: 'on-request', dispatchOnly: options.dispatchOnly === true, ...(approvals ? { approvals } : {}) }));
  let session: Session;
  try {
    session = options.resume === undefined ? new Session(rt) : await Session.resume(rt, options.resume === true ? undefined : options.resume);
  } catch (error) {
    if (!runtime) await rt.close();
    throw error;
  }
  const terminal = interactive
    ? new TerminalScreen(streams.stdin as ReadStream, streams.stdout as WriteStream, paletteFor(streams.stdout, streams.env))
    : undefined;
  const screen: ChatScreen = terminal ?? new PlainScreen(streams, noColors);
  if (terminal && rt.approvalMode === 'on-request') approvals?.attach(terminal);
  const { bold, cyan, green, dim, red, yellow } = screen.palette;
  const dock = new TaskDock(session.id, screen.palette);
  const err = (line: string): void => screen.note(line);

  let activity: Activity | undefined;
  let leaving = false;
  /** The second Ctrl-C: nothing more runs, the tasks are handed back. */
  let leaveNow = false;
  const queued: string[] = [];
  const seconds = (since: number): string => `${Math.max(0, Math.round((Date.now() - since) / 1000))}s`;
  screen.setLive(() => {
    const lines: string[] = [];
    if (activity) lines.push(dim(`  ⧗ ${activity.label} ${seconds(activity.since)} · ${activity.hint}`));
    lines.push(...dock.lines());
    for (const line of queued) lines.push(dim(`  ↳ queued: ${line.replace(/\n/g, ' ↵ ')}`));
    return lines;
  });

  let streamed = false;
  // The reply's thinking, shown dim and folded to one line before its answer (never part of it).
  let thinking = '';
  const showThinking = (): void => {
    if (!thinking.trim()) return;
    if (streamed) screen.write('\n');
    streamed = false;
    err(dim(`  ✻ thinking: ${oneLine(thinking, 160)}`));
    thinking = '';
  };
  session.agent.subscribe((event) => {
    if (event.type === 'reasoning.delta') {
      thinking += event.text;
      return;
    }
    if (event.type === 'model.finished' || event.type === 'model.retry') {
      if (event.type === 'model.retry') thinking = '';
      else showThinking();
    }
    if (event.type === 'text.delta') {
      showThinking();
      if (!streamed) screen.write(`${bold(cyan('legate›'))} `);
      streamed = true;
      screen.write(event.text);
      return;
    }
    const line = event.type === 'model.finished' ? undefined : progressLine(event);
    if (line) {
      if (streamed) screen.write('\n');
      streamed = false;
      err(dim(line));
    }
  });
  const unsubscribe = rt.tasks.subscribe((event) => {
    if (event.type === 'task.spawned' || event.type === 'task.started' || event.type === 'task.input_required' || event.type === 'task.ended')
      dock.update(event.task);
    if (event.type === 'task.activity') dock.activity(event.taskId, event.activity);
    if (!interactive) {
      const line = taskLine(event);
      if (line) err(line);
    }
    if ((event.type === 'task.ended' || event.type === 'task.input_required') && event.task.sessionId === session.id) requestNotices();
    screen.refresh();
  });

  /** Run `work` with `kind` as what Ctrl-C stops; the live area shows `label`, the time since and `hint`. */
  const during = async <T>(kind: Activity['kind'], label: string, hint: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const mine: Activity = { kind, label, hint, since: Date.now(), controller: new AbortController() };
    activity = mine;
    screen.refresh();
    try {
      return await work(mine.controller.signal);
    } finally {
      if (activity === mine) activity = undefined;
      screen.refresh();
    }
  };

  const turn = async (text: string): Promise<void> => {
    streamed = false;
    let interrupted = false;
    const result = await during('turn', 'working', 'Ctrl-C interrupts', async (signal) => {
      const ended = await session.turn(text, signal);
      interrupted = signal.aborted;
      return ended;
    });
    if (streamed) screen.write('\n');
    else if (result.status === 'completed') screen.write(`${bold(cyan('legate›'))} ${result.final}\n`);
    streamed = false;
    // Ctrl-C already said "(turn interrupted)".
    if (result.status !== 'completed' && !interrupted) err(red(`  ! turn ${result.status}: ${result.error ?? result.exitReason}`));
  };

  // One thing at a time: typed lines and notices queue behind the running one.
  let chain: Promise<void> = Promise.resolve();
  const enqueue = (work: () => Promise<void>): Promise<void> => {
    chain = chain.then(work).catch((error) => err(red(`  ! ${errorMessage(error)}`)));
    return chain;
  };
  let noticesQueued = false;
  function requestNotices(): void {
    if (noticesQueued) return;
    noticesQueued = true;
    void enqueue(async () => {
      noticesQueued = false;
      if (leaveNow) return;
      // Typed lines and notices run one at a time, so no other notice turn can take these tasks
      // before this one has stored the conversation and marked them.
      const notices = await session.pendingNotices();
      if (!notices) return;
      err(yellow(`  ── ${notices.text.split('\n')[0]}`));
      try {
        await turn(notices.text);
      } finally {
        // Also after a failed save: the notice is in this process's conversation; never loop on it.
        await session.markReported(notices.taskIds);
      }
    });
  }

  const onLine = (input: string): void => {
    const line = input.trim();
    if (!line || leaving) return;
    queued.push(line);
    screen.refresh();
    void enqueue(async () => {
      queued.shift();
      if (leaveNow) return;
      if (interactive) screen.write(`${bold(green('you›'))} ${line}\n`);
      const handled = await runChatCommand(line, {
        tasks: rt.tasks,
        sessionId: session.id,
        write: (text) => screen.write(text),
        waitFor: (label, hint, work) => during('collect', label, hint, work),
        leave: () => void leave(),
        palette: screen.palette,
        taskChanged: (task) => dock.update(task),
      });
      if (!handled) await turn(line);
    });
  };

  // Tasks of this session that end in another process (a worker, `tasks resume`) tell this one
  // nothing: read the store at a modest interval, for the dock and for their notices.
  let polling = false;
  const poll = async (): Promise<void> => {
    if (polling || leaving) return;
    polling = true;
    try {
      const tasks = await rt.tasks.list(session.id);
      dock.sync(tasks);
      if (tasks.some((task) => isTerminal(task.status) && !task.reported && task.mode === 'async')) requestNotices();
      screen.refresh();
    } catch {
      // The store is closing, or busy: the next tick tries again.
    } finally {
      polling = false;
    }
  };
  const poller = setInterval(() => void poll(), pollMs);
  // In shared mode a task ending on another machine is told at once (Redis Pub/Sub): if it is this
  // session's (`get` refuses others'), read now.
  const stopWatching = rt.tasks.watchEnds((taskId) => void rt.tasks.get(session.id, taskId).then(poll, () => {}));
  const ticker = interactive ? setInterval(() => (activity || dock.size > 0) && screen.refresh(), 1000) : undefined;

  let left: () => void = () => {};
  const finished = new Promise<void>((resolve) => (left = resolve));
  /** Ctrl-D, /exit or Ctrl-C when idle: finish what runs, wait for the session's tasks, then go. */
  const leave = async (): Promise<void> => {
    if (leaving) return;
    leaving = true;
    screen.showPrompt(false);
    try {
      await chain;
      const open = await session.openTasks();
      if (open > 0 && !leaveNow) {
        const tasksWord = `${open} background task${open === 1 ? '' : 's'}`;
        err(
          `  … waiting for ${tasksWord} before leaving (Ctrl-C leaves ${open === 1 ? 'it' : 'them'} interrupted, ` +
            `for legate worker or legate tasks resume)`,
        );
        await during('leave', `waiting for ${tasksWord}`, 'Ctrl-C leaves now', (signal) => rt.tasks.waitForSession(session.id, signal));
        if (!leaveNow) {
          requestNotices();
          await chain;
        }
      }
    } catch (error) {
      if (!leaveNow) err(red(`  ! ${errorMessage(error)}`));
    } finally {
      left();
    }
  };
  let disarm = (): void => {};
  /** Stop everything now; running tasks are handed back on close, within the stop bound (tasks.lease_seconds + 5 s). */
  const stopNow = (): void => {
    if (!leaveNow) disarm = armStopBound(stopBoundSeconds(rt.config.tasks.lease_seconds), (line) => void streams.stderr.write(`${line}\n`));
    leaving = true;
    leaveNow = true;
    activity?.controller.abort();
    left();
  };
  const interrupt = (): void => {
    if (leaving) {
      // The second Ctrl-C.
      stopNow();
      return;
    }
    if (activity) {
      activity.controller.abort();
      if (activity.kind === 'turn') {
        if (streamed) screen.write('\n');
        streamed = false;
        err(yellow('  (turn interrupted)'));
      }
      return;
    }
    void leave();
  };
  process.on('SIGINT', interrupt);
  // SIGTERM (a service manager, a closed terminal's shell): leave now, as a second Ctrl-C does.
  process.on('SIGTERM', stopNow);

  screen.write(
    `${dim(
      `legate chat: ${rt.endpoints.parent.model} via ${rt.endpoints.parent.provider} (${rt.endpoints.parent.baseUrl}). ` +
        `/help for commands, Ctrl-D to leave.`,
    )}\n`,
  );
  screen.write(
    `${dim(
      `session ${session.id}${options.resume === undefined ? '' : ` resumed (${session.agent.messages.length} messages)`}` +
        `: continue it later with legate chat --resume ${session.id}`,
    )}\n`,
  );
  if (options.resume !== undefined) for (const line of recapLines(session.agent.messages, screen.palette)) screen.write(`${line}\n`);
  // Tasks that ended while this session was not running: their notices arrive now, once.
  if (options.resume !== undefined) requestNotices();
  screen.start({ line: onLine, interrupt, eof: () => void leave() });

  await finished;
  // After a second Ctrl-C only the aborted turn or wait is left in the chain (the rest is skipped):
  // let it end, so an interrupted turn is still saved before the store closes.
  if (leaveNow) await chain;
  const handedBack = leaveNow ? await rt.tasks.list(session.id, { status: ['running'] }).catch(() => []) : []; // the store is closing: nothing to list as handed back
  process.removeListener('SIGINT', interrupt);
  process.removeListener('SIGTERM', stopNow);
  clearInterval(poller);
  clearInterval(ticker);
  stopWatching();
  unsubscribe();
  screen.close();
  try {
    if (!runtime) await rt.close();
  } finally {
    for (const task of handedBack) {
      streams.stderr.write(`  ${task.id} handed back as interrupted: legate worker, or legate tasks resume ${task.id}, continues it\n`);
    }
    disarm();
  }
  return 0;
}
