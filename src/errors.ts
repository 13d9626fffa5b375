/**
 * Errors at legate's API boundaries. Every error carries a stable `code` and a message that names
 * the offending value (`task_not_found: no task "t_93" in this session`).
 */
export type ErrorCode =
  | 'config_invalid'
  | 'config_missing_key'
  | 'config_not_found'
  | 'invalid_arguments'
  | 'task_not_found'
  | 'session_not_found'
  | 'task_not_running'
  | 'task_finished'
  | 'illegal_transition'
  | 'store_too_new'
  | 'store_locked'
  | 'store_unavailable'
  | 'store_reset'
  | 'store_corrupt'
  | 'store_write_failed'
  | 'lease_lost'
  | 'resume_limit'
  | 'depth_limit'
  | 'unknown_route'
  | 'sandbox_denied'
  | 'sandbox_wider'
  | 'no_keys_available'
  | 'aborted'
  | 'timeout'
  | 'unknown_task'
  | 'not_waiting'
  | 'budget_exceeded'
  | 'budget_unpriced'
  | 'not_a_repository'
  | 'git_missing'
  | 'merge_conflict'
  | 'worktree_missing'
  | 'no_worktree'
  | 'task_not_ended';

export class LegateError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'LegateError';
    this.code = code;
    this.details = details;
  }

  /** `code: message`, the form shown to users and models. */
  override toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

/** The message of any thrown value, never `[object Object]`. */
export function errorMessage(error: unknown): string {
  if (error instanceof LegateError) return error.toString();
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * A value the user gave, quoted for a message: at most `max` characters (then `…`), control
 * characters escaped (`"t_1\u001b[2J"`), so a pasted id can neither flood nor repaint the terminal.
 */
export function quoted(value: string, max = 80): string {
  const chars = Array.from(value);
  const shown = chars.length > max ? `${chars.slice(0, max).join('')}…` : value;
  return JSON.stringify(shown).replace(/[\u007f-\u009f\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
