import { randomBytes } from 'node:crypto';

/** A new task id: `t_` and 8 hex digits. */
export function newTaskId(): string {
  return `t_${randomBytes(4).toString('hex')}`;
}

/** A new session id: `s_` and 12 hex digits. */
export function newSessionId(): string {
  return `s_${randomBytes(6).toString('hex')}`;
}
