import { createInterface } from 'node:readline';
import { errorMessage } from '../errors.js';
import { collectView } from '../delegation/views.js';
import { Session } from '../session.js';
import type { Runtime } from '../runtime.js';
import { openRuntime, type GlobalOptions, type Streams } from './context.js';
import { TaskDock } from './task-dock.js';
import { progressLine, taskLine } from './progress.js';

export interface ChatOptions extends GlobalOptions {
  /** `--resume [SESSION]`: true for the most recent session in this directory. */
  resume?: string | true;
}

const help = [
  'Type a message to talk to the agent. Commands:',
  '  /tasks              this session\'s background tasks',
  '  /steer ID text      send guidance to a running task',
  '  /cancel ID          stop a task now',
  '  /collect ID         wait for a task and show its summary',
  '  /help               this help',
  '  /exit               leave (Ctrl-D too)',
].join('\n');

/**
 * `legate chat`: an interactive session. Agent text streams to stdout, tool and task lines go to
 * stderr, a dock above the prompt shows running tasks. A task that ends while the agent is idle
 * enters the conversation as a new turn (its completion notice).
 */
export async function chatCommand(options: ChatOptions, streams: Streams, runtime?: Runtime): Promise<number> {
  const rt = runtime ?? (await openRuntime(options, streams));
  let session: Session;
  try {
    session = options.resume === undefined ? new Session(rt) : await Session.resume(rt, options.resume === true ? undefined : options.resume);
  } catch (error) {
    if (!runtime) await rt.close();
    throw error;
  }
  const tty = Boolean((streams.stdin as { isTTY?: boolean }).isTTY && (streams.stdout as { isTTY?: boolean }).isTTY);
  const rl = createInterface({ input: streams.stdin, output: streams.stdout, terminal: tty, prompt: 'you› ' });
  const dock = new TaskDock(streams.stdout, () => rl.prompt(true), tty);
  const out = (text: string): void => {
    dock.clear();
    streams.stdout.write(text);
  };
  const err = (line: string): void => {
    dock.clear();
    streams.stderr.write(`${line}\n`);
  };
  let busy = false;
  let current: AbortController | undefined;
  let streamed = false;

  session.agent.subscribe((event) => {
    if (event.type === 'text.delta') {
      if (!streamed) out('legate› ');
      streamed = true;
      out(event.text);
      return;
    }
    const line = progressLine(event);
    if (line) {
      if (streamed) out('\n');
      streamed = false;
      err(line);
    }
  });
  const unsubscribe = rt.tasks.subscribe((event) => {
    if (event.type === 'task.spawned' || event.type === 'task.started' || event.type === 'task.ended') dock.update(event.task);
    if (event.type === 'task.activity') dock.activity(event.taskId, event.activity);
    if (!tty) {
      const line = taskLine(event);
      if (line) err(line);
    }
    if (event.type === 'task.ended' && event.task.sessionId === session.id) void deliverNotices();
  });

  const turn = async (text: string): Promise<void> => {
    busy = true;
    current = new AbortController();
    streamed = false;
    const result = await session.turn(text, current.signal);
    if (streamed) out('\n');
    else if (result.status === 'completed') out(`legate› ${result.final}\n`);
    if (result.status !== 'completed') err(`  ! turn ${result.status}: ${result.error ?? result.exitReason}`);
    busy = false;
    current = undefined;
  };

  // One thing at a time: typed lines and notices queue behind the running turn.
  let chain: Promise<void> = Promise.resolve();
  const enqueue = (work: () => Promise<void>): Promise<void> => {
    chain = chain.then(work).catch((error) => err(`  ! ${errorMessage(error)}`)).then(() => {
      if (!busy && tty) {
        dock.render();
        rl.prompt(true);
      }
    });
    return chain;
  };
  const deliverNotices = (): Promise<void> =>
    enqueue(async () => {
      const notices = await session.takeNotices();
      if (!notices) return;
      err(`  ── ${notices.split('\n')[0]}`);
      await turn(notices);
    });

  const command = async (line: string): Promise<boolean> => {
    const [name, id, ...rest] = line.split(/\s+/);
    const tasks = rt.tasks;
    switch (name) {
      case '/help':
        out(`${help}\n`);
        return true;
      case '/exit':
      case '/quit':
        rl.close();
        return true;
      case '/tasks': {
        const list = await tasks.list(session.id);
        out(list.length === 0 ? 'no tasks in this session\n' : `${list.map((task) => `${task.id}  ${task.status.padEnd(11)} ${task.goal.slice(0, 70)}`).join('\n')}\n`);
        return true;
      }
      case '/steer':
        if (!id || rest.length === 0) throw new Error('usage: /steer ID text');
        await tasks.steer(session.id, id, rest.join(' '));
        out(`steer queued for ${id}: delivered at its next model call\n`);
        return true;
      case '/cancel':
        if (!id) throw new Error('usage: /cancel ID');
        out(`${(await tasks.cancel(session.id, id, 'user')).id} cancelled\n`);
        return true;
      case '/collect': {
        if (!id) throw new Error('usage: /collect ID');
        const { task, timedOut } = await tasks.waitForEnd(session.id, id, 300_000);
        if (!timedOut) await tasks.markReported(session.id, id);
        const { output, steers } = await tasks.trail(session.id, id);
        const view = collectView(task, output, steers, timedOut);
        out(`${task.id} ${task.status}${timedOut ? ' (still running)' : ''}\n${String(view.summary || view.error || view.output)}\n`);
        return true;
      }
      default:
        if (!name?.startsWith('/')) return false;
        throw new Error(`unknown command "${name}"; /help lists them`);
    }
  };

  out(`legate chat: ${rt.endpoints.parent.model} via ${rt.endpoints.parent.provider} (${rt.endpoints.parent.baseUrl}). /help for commands, Ctrl-D to leave.\n`);
  out(`session ${session.id}${options.resume === undefined ? '' : ` resumed (${session.agent.messages.length} messages)`}: continue it later with legate chat --resume ${session.id}\n`);
  // Tasks that ended while this session was not running: their notices arrive now, once.
  if (options.resume !== undefined) void deliverNotices();
  if (tty) rl.prompt();
  rl.on('line', (input) => {
    const line = input.trim();
    if (!line) {
      if (tty && !busy) rl.prompt();
      return;
    }
    void enqueue(async () => {
      if (!(await command(line))) await turn(line);
    });
  });
  const onSigint = (): void => {
    if (current) {
      current.abort();
      err('  (turn interrupted)');
    } else rl.close();
  };
  rl.on('SIGINT', onSigint);
  process.on('SIGINT', onSigint);

  await new Promise<void>((resolve) => rl.once('close', resolve));
  try {
    await chain;
    const open = await session.openTasks();
    if (open > 0) {
      err(`  … waiting for ${open} background task${open === 1 ? '' : 's'} before leaving (Ctrl-C leaves them interrupted, for legate worker or legate tasks resume)`);
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      await rt.tasks.waitForSession(session.id, controller.signal);
      await deliverNotices();
    }
    await chain;
  } finally {
    process.removeListener('SIGINT', onSigint);
    unsubscribe();
    dock.stop();
    if (!runtime) await rt.close();
  }
  return 0;
}
