import { userInfo } from 'node:os';
import { raiseFromFlags, splitRaiseFlags } from '../budget/budget-raise.js';
import { collectView } from '../delegation/views.js';
import type { TaskRecord } from '../tasks/task-record.js';
import type { TaskService } from '../tasks/task-service.js';
import type { Palette } from './colors.js';

export const chatHelp = [
  'Type a message to talk to the agent. Commands:',
  "  /tasks              this session's background tasks",
  '  /steer ID text      send guidance to a running task',
  '  /cancel ID          stop a task now',
  '  /collect ID         wait for a task and show its summary (Ctrl-C stops waiting, not the task)',
  '  /approve ID         let a task waiting for approval run its request once (a budget: raise it; --tokens N, --usd X, --seconds S say by how much)',
  '  /deny ID [reason]   refuse it: the task gets the denial (and reason) as its tool result',
  '  /help               this help',
  '  /exit               leave (Ctrl-D too)',
].join('\n');

/** What a slash command may use. */
export interface ChatCommandContext {
  tasks: TaskService;
  sessionId: string;
  /** Transcript text. */
  write(text: string): void;
  /** Run a wait that the live area shows (`label`, elapsed time, `hint`) and Ctrl-C stops. */
  waitFor<T>(label: string, hint: string, work: (signal: AbortSignal) => Promise<T>): Promise<T>;
  leave(): void;
  palette: Palette;
  /** A task changed by a command (an answered approval): the dock shows it before the next poll. */
  taskChanged?(task: TaskRecord): void;
}

/**
 * Run `line` if it is a slash command. Resolves false for a message to the agent; throws (a usage
 * error, `task_not_found`…) for the chat to show.
 */
export async function runChatCommand(line: string, context: ChatCommandContext): Promise<boolean> {
  const [name, id, ...rest] = line.split(/\s+/);
  const { tasks, sessionId, write } = context;
  switch (name) {
    case '/help':
      write(`${chatHelp}\n`);
      return true;
    case '/exit':
    case '/quit':
      context.leave();
      return true;
    case '/tasks': {
      const list = await tasks.list(sessionId);
      write(
        list.length === 0
          ? 'no tasks in this session\n'
          : `${list.map((task) => `${task.id}  ${task.status.padEnd(11)} ${task.goal.slice(0, 70)}${waitsFor(task)}`).join('\n')}\n`,
      );
      return true;
    }
    case '/steer':
      if (!id || rest.length === 0) throw new Error('usage: /steer ID text');
      await tasks.steer(sessionId, id, rest.join(' '));
      write(`steer queued for ${id}: delivered at its next model call\n`);
      return true;
    case '/cancel':
      if (!id) throw new Error('usage: /cancel ID');
      write(`${(await tasks.cancel(sessionId, id, 'user')).id} cancelled\n`);
      return true;
    case '/approve': {
      const { flags, rest: extra } = splitRaiseFlags(rest);
      if (!id || extra.length > 0) throw new Error('usage: /approve ID [--tokens N] [--usd X] [--seconds S]');
      const raise = raiseFromFlags(flags);
      const task = await tasks.answerApproval(sessionId, id, { approved: true, ...(raise ? { raise } : {}) }, answerer());
      context.taskChanged?.(task);
      const how = task.approval?.kind === 'budget' ? 'its budget is raised' : 'the call runs once';
      write(`approved ${task.id}${requestId(task)}: ${how} and the task goes on\n`);
      return true;
    }
    case '/deny': {
      if (!id) throw new Error('usage: /deny ID [reason]');
      const reason = rest.join(' ') || 'denied by the user';
      const task = await tasks.answerApproval(sessionId, id, { approved: false, reason }, answerer());
      context.taskChanged?.(task);
      write(`denied ${task.id}${requestId(task)}: the task gets the denial (${reason}) and goes on\n`);
      return true;
    }
    case '/collect': {
      if (!id) throw new Error('usage: /collect ID');
      let stopped = false;
      const { task, timedOut } = await context.waitFor(`waiting for ${id}`, 'Ctrl-C stops waiting (the task keeps running)', async (signal) => {
        const result = await tasks.waitForEnd(sessionId, id, 300_000, signal);
        stopped = signal.aborted;
        return result;
      });
      if (timedOut && stopped) {
        write(context.palette.yellow(`stopped waiting for ${task.id}; it is still ${task.status} (/collect ${task.id} waits again)\n`));
        return true;
      }
      if (!timedOut) await tasks.markReported(sessionId, task.id);
      const { output, steers } = await tasks.trail(sessionId, task.id);
      const view = collectView(task, output, steers, timedOut);
      write(`${task.id} ${task.status}${timedOut ? ' (still running)' : ''}\n${String(view.summary || view.error || view.output)}\n`);
      return true;
    }
    default:
      if (!name?.startsWith('/')) return false;
      throw new Error(`unknown command "${name}"; /help lists them`);
  }
}

/** For a task waiting for approval: its request on a line of its own, and how to answer. */
function waitsFor(task: TaskRecord): string {
  if (task.status !== 'input_required' || !task.approval) return '';
  const { approval } = task;
  const raise = approval.kind === 'budget' ? ' [--tokens N | --usd X | --seconds S]' : '';
  return `\n    waits for approval (request ${approval.id}): /approve ${task.id}${raise} or /deny ${task.id} [reason]\n    ${approval.kind}: ${approval.subject}`;
}

/** ` (request 1.2)`: the request an answered task waited on. */
function requestId(task: TaskRecord): string {
  return task.approval ? ` (request ${task.approval.id})` : '';
}

/** Who answered an approval from the chat, as the task stores it (and the child reads it in a denial). */
function answerer(): string {
  try {
    return `${userInfo().username} (legate chat)`;
  } catch {
    // no user name (a container's uid): a generic name
    return 'the user (legate chat)';
  }
}
