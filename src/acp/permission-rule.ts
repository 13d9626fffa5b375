import { isAbsolute, resolve } from 'node:path';
import type * as acp from '@agentclientprotocol/sdk';
import type { SandboxMode } from '../sandbox/modes.js';
import { isWithin, type SandboxRequest } from '../sandbox/policy.js';

/**
 * What legate does with an ACP child's `session/request_permission`: `allow` at once, or `ask`
 * (the request goes to approvals when they are on, and is rejected otherwise). `request` is the
 * call as a sandbox request (what a human approving it is shown); `reason` names the agent, the
 * call and the mode.
 */
export type ChildPermission = { verdict: 'allow'; why: string } | { verdict: 'ask'; request: SandboxRequest; reason: string };

export interface ChildPermissionContext {
  /** The route's name, for the reason. */
  route: string;
  /** The task's sandbox mode. */
  mode: SandboxMode;
  /** The task's working directory (the agent's `session/new` cwd). */
  cwd: string;
  /** The route's `allow_permissions: true`: the operator trusts the agent with everything. */
  allowAll: boolean;
}

/**
 * Decide an ACP child's permission request by the task's sandbox mode. Pure. The agent runs its
 * own tools, outside legate's OS sandbox, so only what the mode would allow a legate tool anyway is
 * allowed without asking:
 * - everything with the route's `allow_permissions: true`, or in `danger-full-access`;
 * - a read or search whose files (`locations`) all lie in the task's directory;
 * - in `workspace-write`, an edit, delete or move whose files all lie in the task's directory.
 * Everything else is asked: a command (`execute`), a fetch, a call on files outside the directory,
 * a write in `read-only`, or a call that names no files.
 */
export function childPermission(toolCall: acp.ToolCallUpdate, context: ChildPermissionContext): ChildPermission {
  if (context.allowAll) return { verdict: 'allow', why: 'the route sets allow_permissions' };
  if (context.mode === 'danger-full-access') return { verdict: 'allow', why: 'danger-full-access mode' };
  const title = toolCall.title?.trim() || toolCall.toolCallId;
  const paths = (toolCall.locations ?? []).map((location) => (isAbsolute(location.path) ? resolve(location.path) : resolve(context.cwd, location.path)));
  const inside = paths.length > 0 && paths.every((path) => isWithin(path, context.cwd));
  const kind = toolCall.kind ?? 'other';
  const who = `the ACP agent of route "${context.route}" asks to run "${title}" (${kind})`;
  const mode = `in ${context.mode} mode`;

  if (kind === 'read' || kind === 'search') {
    if (inside) return { verdict: 'allow', why: `a ${kind} in the task's directory` };
    const path = paths.find((candidate) => !isWithin(candidate, context.cwd)) ?? title;
    return { verdict: 'ask', request: { kind: 'read', path }, reason: `${who} ${mode}: ${where(paths, context.cwd)}` };
  }
  if (kind === 'edit' || kind === 'delete' || kind === 'move') {
    if (inside && context.mode === 'workspace-write') return { verdict: 'allow', why: `${kind === 'edit' ? 'an' : 'a'} ${kind} in the task's directory` };
    const path = paths.find((candidate) => !isWithin(candidate, context.cwd)) ?? paths[0] ?? title;
    const why = context.mode === 'read-only' ? 'no tool may write in read-only mode' : where(paths, context.cwd);
    return { verdict: 'ask', request: { kind: 'write', path }, reason: `${who} ${mode}: ${why}` };
  }
  if (kind === 'fetch') {
    return { verdict: 'ask', request: { kind: 'network', command: title }, reason: `${who} ${mode}: it uses the network` };
  }
  const command = typeof rawField(toolCall.rawInput, 'command') === 'string' ? (rawField(toolCall.rawInput, 'command') as string) : title;
  return {
    verdict: 'ask',
    request: { kind: 'exec', command, cwd: context.cwd, osSandbox: { available: false, reason: 'the ACP agent runs it itself' } },
    reason: `${who} ${mode}: the agent would run it itself, outside legate's sandbox`,
  };
}

function where(paths: string[], cwd: string): string {
  if (paths.length === 0) return 'it names no files, so legate cannot tell what it touches';
  const outside = paths.filter((path) => !isWithin(path, cwd));
  return `${outside.join(', ')} ${outside.length === 1 ? 'lies' : 'lie'} outside the task's directory ${cwd}`;
}

function rawField(raw: unknown, name: string): unknown {
  return raw && typeof raw === 'object' ? (raw as Record<string, unknown>)[name] : undefined;
}

/**
 * The option that carries a decision: the agent's first "allow" option (once, else always) for
 * an allowed request, its first "reject" option otherwise (`cancelled` when it offers none).
 */
export function permissionAnswer(options: readonly acp.PermissionOption[], allow: boolean): { allowed: boolean; outcome: acp.RequestPermissionOutcome } {
  const kinds: acp.PermissionOptionKind[] = allow ? ['allow_once', 'allow_always'] : ['reject_once', 'reject_always'];
  for (const kind of kinds) {
    const option = options.find((candidate) => candidate.kind === kind);
    if (option) return { allowed: allow, outcome: { outcome: 'selected', optionId: option.optionId } };
  }
  return { allowed: false, outcome: { outcome: 'cancelled' } };
}
