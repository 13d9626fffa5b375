import { readFileSync } from 'node:fs';
import type * as acp from '@agentclientprotocol/sdk';
import type { AgentEvent } from '../agent/events.js';
import type { Message } from '../provider/types.js';
import type { TaskRecord } from '../tasks/task-record.js';
import { resolvePath } from '../tools/paths.js';

/**
 * How legate's agent shows in an ACP client: agent events and stored messages become
 * `session/update`s. Tool calls carry a kind, a status, the files they touch (`locations`) and,
 * for file edits, a diff.
 */

const kinds: Record<string, acp.ToolKind> = {
  read_file: 'read',
  list_dir: 'read',
  search_files: 'search',
  write_file: 'edit',
  edit_file: 'edit',
  terminal: 'execute',
};

/** A tool call's JSON arguments as an object (`{}` when they are not one). */
export function parseArguments(raw: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(raw || '{}');
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    // the agent's raw input is not JSON: no arguments to show
    return {};
  }
}

/** Live translation for one session: remembers what a file looked like before a write, for its diff. */
export class SessionUpdates {
  private readonly calls = new Map<string, { name: string; args: Record<string, unknown>; before?: string | null }>();

  constructor(private readonly cwd: string) {}

  /** The update for an agent event, or undefined when the editor need not see it. */
  forEvent(event: AgentEvent): acp.SessionUpdate | undefined {
    if (event.type === 'text.delta') return { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: event.text } };
    if (event.type === 'tool.started') return this.started(event.callId, event.name, event.arguments, true);
    if (event.type === 'tool.finished') return this.finished(event.callId, event.content, event.isError);
    return undefined;
  }

  /** A stored conversation, replayed for `session/load`. */
  forMessages(messages: readonly Message[]): acp.SessionUpdate[] {
    const updates: acp.SessionUpdate[] = [];
    for (const message of messages) {
      if (message.role === 'user') updates.push({ sessionUpdate: 'user_message_chunk', content: { type: 'text', text: message.content } });
      if (message.role === 'assistant') {
        if (message.content) updates.push({ sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: message.content } });
        for (const call of message.toolCalls ?? []) updates.push(this.started(call.id, call.name, call.arguments, false));
      }
      if (message.role === 'tool') updates.push(this.finished(message.toolCallId, message.content, message.isError === true));
    }
    return updates;
  }

  private started(callId: string, name: string, rawArguments: string, live: boolean): acp.SessionUpdate {
    const args = parseArguments(rawArguments);
    const path = typeof args.path === 'string' ? resolvePath(args.path, this.cwd) : undefined;
    // The file before a live write, for the diff (a replay has no "before").
    const before = live && path && name === 'write_file' ? readOrNull(path) : undefined;
    this.calls.set(callId, { name, args, ...(before !== undefined ? { before } : {}) });
    return {
      sessionUpdate: 'tool_call',
      toolCallId: callId,
      title: title(name, args),
      kind: kinds[name] ?? (name.includes('task') ? 'think' : 'other'),
      status: 'in_progress',
      rawInput: args,
      ...(path ? { locations: [{ path }] } : {}),
    };
  }

  private finished(callId: string, output: string, isError: boolean): acp.SessionUpdate {
    const call = this.calls.get(callId);
    this.calls.delete(callId);
    const content: acp.ToolCallContent[] = [];
    const diff = call && !isError ? diffOf(call, this.cwd) : undefined;
    if (diff) content.push({ type: 'diff', ...diff });
    content.push({ type: 'content', content: { type: 'text', text: output } });
    return { sessionUpdate: 'tool_call_update', toolCallId: callId, status: isError ? 'failed' : 'completed', content };
  }
}

function title(name: string, args: Record<string, unknown>): string {
  const detail =
    typeof args.path === 'string'
      ? args.path
      : typeof args.command === 'string'
        ? args.command
        : typeof args.goal === 'string'
          ? args.goal
          : typeof args.task_id === 'string'
            ? args.task_id
            : '';
  const short = detail.replace(/\s+/g, ' ').trim();
  return short ? `${name}: ${short.length > 80 ? `${short.slice(0, 79)}…` : short}` : name;
}

function diffOf(call: { name: string; args: Record<string, unknown>; before?: string | null }, cwd: string): acp.Diff | undefined {
  const path = typeof call.args.path === 'string' ? resolvePath(call.args.path, cwd) : undefined;
  if (!path) return undefined;
  if (call.name === 'write_file' && typeof call.args.content === 'string') return { path, oldText: call.before ?? null, newText: call.args.content };
  if (call.name === 'edit_file' && typeof call.args.old_string === 'string' && typeof call.args.new_string === 'string') {
    return { path, oldText: call.args.old_string, newText: call.args.new_string };
  }
  return undefined;
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    // unreadable: the diff shows no old text
    return null;
  }
}

/** A background task of the session, as a tool call the editor can follow: started, then ended. */
export function taskUpdate(task: TaskRecord, phase: 'spawned' | 'ended'): acp.SessionUpdate {
  const toolCallId = `task-${task.id}`;
  if (phase === 'spawned') {
    return {
      sessionUpdate: 'tool_call',
      toolCallId,
      title: `background task ${task.id}: ${task.goal.split('\n')[0]!.slice(0, 80)}`,
      kind: 'think',
      status: 'in_progress',
      rawInput: { task_id: task.id, goal: task.goal },
    };
  }
  const text = task.status === 'completed' ? (task.summary ?? '') : `${task.status}${task.error ? `: ${task.error}` : ''}`;
  return {
    sessionUpdate: 'tool_call_update',
    toolCallId,
    status: task.status === 'completed' ? 'completed' : 'failed',
    content: [{ type: 'content', content: { type: 'text', text: `${task.id} ${task.status}. ${text}` } }],
  };
}
