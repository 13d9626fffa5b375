import { LegateError, quoted } from '../errors.js';
import type { TaskRecord } from './task-record.js';

/**
 * Who is asking the task service: an agent's session (its tools see only that session's tasks), or
 * the operator (the user at the CLI: every task of this LEGATE_HOME; cannot spawn, and its collects
 * do not count as the result reaching the parent).
 */
export type Caller = { kind: 'session'; sessionId: string } | { kind: 'operator' };

export const operator: Caller = { kind: 'operator' };

export function sessionCaller(sessionId: string): Caller {
  return { kind: 'session', sessionId };
}

/** A caller, or a session id as shorthand for that session's caller. */
export type CallerLike = Caller | string;

export function asCaller(caller: CallerLike): Caller {
  return typeof caller === 'string' ? sessionCaller(caller) : caller;
}

/** Whether `caller` may see `task`. */
export function sees(caller: Caller, task: TaskRecord): boolean {
  return caller.kind === 'operator' || task.sessionId === caller.sessionId;
}

/** The store filter that limits a list to what `caller` sees. */
export function callerScope(caller: Caller): { sessionId?: string } {
  return caller.kind === 'session' ? { sessionId: caller.sessionId } : {};
}

/** `task_not_found` naming the id and where the caller looked. */
export function taskNotFound(caller: Caller, taskId: unknown): LegateError {
  const where = caller.kind === 'session' ? 'in this session' : 'in this LEGATE_HOME';
  return new LegateError('task_not_found', `no task ${quoted(String(taskId))} ${where}`, { taskId });
}
