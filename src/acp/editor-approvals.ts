import type * as acp from '@agentclientprotocol/sdk';
import type { AgentEvent } from '../agent/events.js';
import { errorMessage } from '../errors.js';
import type { ApprovalAnswer, ApprovalGate, ApprovalRequest } from '../sandbox/approval-gate.js';
import type { SandboxRequest } from '../sandbox/policy.js';
import { resolvePath } from '../tools/paths.js';
import { parseArguments } from './session-updates.js';

/** The editor's choices for one request: allow once, allow for the rest of the session, reject. */
export const permissionOptions: acp.PermissionOption[] = [
  { optionId: 'allow_once', name: 'Allow once', kind: 'allow_once' },
  { optionId: 'allow_always', name: 'Allow for this session', kind: 'allow_always' },
  { optionId: 'reject', name: 'Reject', kind: 'reject_once' },
];

/** What the user chose in the editor: `cancelled` when the request was withdrawn or could not be asked. */
export type EditorChoice = { choice: 'allow_once' } | { choice: 'allow_always' } | { choice: 'reject' } | { choice: 'cancelled'; why: string };

/** One request as the editor shows it. */
export interface EditorQuestion {
  /** The tool call it belongs to (a running one, so the editor shows the question on it). */
  toolCallId: string;
  title: string;
  kind: acp.ToolKind;
  /** The exact command, or the real path. */
  subject: string;
  /** Why it needs an answer: the policy's reason, naming the path or command and the mode. */
  reason: string;
  path?: string;
}

/**
 * Ask the editor `session/request_permission` and wait for the user's choice. Never throws: a
 * failed request, or `signal` aborting first (the request is withdrawn with `$/cancel_request`),
 * is `cancelled`.
 */
export async function askEditor(client: acp.AgentContext, sessionId: string, question: EditorQuestion, signal?: AbortSignal): Promise<EditorChoice> {
  if (signal?.aborted) return { choice: 'cancelled', why: 'the turn was cancelled' };
  try {
    const response = await client.request(
      'session/request_permission',
      {
        sessionId,
        toolCall: {
          toolCallId: question.toolCallId,
          title: question.title,
          kind: question.kind,
          status: 'pending',
          rawInput: { subject: question.subject },
          content: [{ type: 'content', content: { type: 'text', text: question.reason } }],
          ...(question.path ? { locations: [{ path: question.path }] } : {}),
        },
        options: permissionOptions,
      },
      signal ? { cancellationSignal: signal, stopWaitingOnCancel: true } : undefined,
    );
    if (signal?.aborted) return { choice: 'cancelled', why: 'the turn was cancelled' };
    if (response.outcome.outcome === 'cancelled') return { choice: 'cancelled', why: 'the editor withdrew the request' };
    const picked = permissionOptions.find((option) => option.optionId === (response.outcome as { optionId: string }).optionId);
    if (!picked) return { choice: 'cancelled', why: `the editor answered with an unknown option "${response.outcome.optionId}"` };
    return { choice: picked.optionId } as EditorChoice;
  } catch (error) {
    if (signal?.aborted) return { choice: 'cancelled', why: 'the turn was cancelled' };
    return { choice: 'cancelled', why: `the editor could not be asked: ${errorMessage(error)}` };
  }
}

/** The command or real path a request is about. */
export function requestSubject(request: SandboxRequest): string {
  return 'path' in request ? request.path : request.command;
}

/** The editor's answer as the gate's. A rejection's reason keeps the policy's and says who decided. */
export function answerOf(choice: EditorChoice, reason: string): ApprovalAnswer {
  if (choice.choice === 'allow_once' || choice.choice === 'allow_always') return { approved: true };
  if (choice.choice === 'reject') return { approved: false, reason: `${reason} (rejected by the user in the editor)` };
  return { approved: false, reason: `${reason} (not approved: ${choice.why})` };
}

/**
 * The approval gate of one ACP session's own tool calls: a call the sandbox policy answers `ask`
 * for goes to the editor as `session/request_permission` (allow once, allow for the session,
 * reject); the user's choice is the gate's answer. "Allow for the session" approves the same kind
 * of call on the same command or path for the rest of the session without asking. Cancelling the
 * turn (`session/cancel`) withdraws a pending request and answers "not approved".
 *
 * The question is shown on the tool call that made it when one running call matches the command
 * or path (`observe` follows the agent's tool calls).
 */
export class EditorApprovals implements ApprovalGate {
  /** The running turn's signal: the session sets it for each turn. */
  turnSignal: AbortSignal | undefined;
  private readonly always = new Set<string>();
  private readonly running = new Map<string, { name: string; args: Record<string, unknown> }>();
  private asked = 0;

  constructor(
    private readonly client: () => acp.AgentContext | undefined,
    private readonly sessionId: string,
    private readonly cwd: string,
  ) {}

  /** Follow the agent's tool calls, to show a question on the call that made it. */
  observe(event: AgentEvent): void {
    if (event.type === 'tool.started') this.running.set(event.callId, { name: event.name, args: parseArguments(event.arguments) });
    if (event.type === 'tool.finished') this.running.delete(event.callId);
  }

  /** The user chose "Allow for this session" for this kind of call on this command or path. */
  allows(kind: SandboxRequest['kind'], subject: string): boolean {
    return this.always.has(`${kind}\u0000${subject}`);
  }

  /** Remember "Allow for this session" for this kind of call on this command or path. */
  allowAlways(kind: SandboxRequest['kind'], subject: string): void {
    this.always.add(`${kind}\u0000${subject}`);
  }

  async request(approval: ApprovalRequest, signal?: AbortSignal): Promise<ApprovalAnswer> {
    const subject = requestSubject(approval.request);
    if (this.allows(approval.request.kind, subject)) return { approved: true };
    const client = this.client();
    if (!client) return answerOf({ choice: 'cancelled', why: 'no editor is connected' }, approval.reason);
    const signals = [signal, this.turnSignal].filter((candidate): candidate is AbortSignal => candidate !== undefined);
    const question: EditorQuestion = {
      toolCallId: this.callFor(approval.request) ?? `approval-${++this.asked}`,
      title: `${verb(approval.request)} ${subject}? (outside ${approval.mode} mode)`,
      kind: approval.request.kind === 'read' ? 'read' : approval.request.kind === 'write' ? 'edit' : approval.request.kind === 'network' ? 'fetch' : 'execute',
      subject,
      reason: approval.reason,
      ...('path' in approval.request ? { path: approval.request.path } : {}),
    };
    const choice = await askEditor(client, this.sessionId, question, signals.length > 0 ? AbortSignal.any(signals) : undefined);
    if (choice.choice === 'allow_always') this.allowAlways(approval.request.kind, subject);
    return answerOf(choice, approval.reason);
  }

  /** The one running tool call about the request's command or path, if there is exactly one. */
  private callFor(request: SandboxRequest): string | undefined {
    const matches = [...this.running].filter(([, call]) => {
      if ('command' in request) return call.args.command === request.command;
      return typeof call.args.path === 'string' && resolvePath(call.args.path, this.cwd) === request.path;
    });
    if (matches.length === 1) return matches[0]![0];
    return this.running.size === 1 ? [...this.running.keys()][0] : undefined;
  }
}

function verb(request: SandboxRequest): string {
  if (request.kind === 'read') return 'Read';
  if (request.kind === 'write') return 'Write to';
  if (request.kind === 'network') return 'Use the network for';
  return 'Run';
}
