import { dirname } from 'node:path';
import type { ApprovalAnswer, ApprovalGate, ApprovalRequest } from '../sandbox/approval-gate.js';
import { isWithin, type SandboxRequest } from '../sandbox/policy.js';
import type { ApprovalChoice, ApprovalQuestion } from './tui/chat-screen.js';

/** The screen side of the chat's approvals: asks in the terminal, and notes answers in the transcript. */
export interface ApprovalScreen {
  askApproval(question: ApprovalQuestion, signal?: AbortSignal): Promise<ApprovalChoice>;
  note(line: string): void;
  palette: { green(text: string): string; red(text: string): string };
}

/**
 * The gate of the top-level agent's own calls in `legate chat`: a call outside its sandbox mode
 * (the policy said `ask`) is put to the user in the terminal, showing the exact command or path:
 * approve once, approve for the session, or deny (Ctrl-C too). One question at a time, in order.
 *
 * "For the session" covers, until the chat ends: for a command, the same command line exactly (in
 * any directory); for a file write, any write under the same directory as the approved path (its
 * parent directory and below: `write_file` makes a directory, then the file in it). Nothing else
 * is remembered, and nothing is stored: a resumed chat asks again.
 */
export class ChatApprovals implements ApprovalGate {
  private screen: ApprovalScreen | undefined;
  private readonly commands = new Set<string>();
  private readonly directories: string[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * Where to ask, once the screen exists (and only when `agent.approval` is `on-request`): until
   * then, or without it, every request is refused with the policy's reason, as in `legate run`.
   */
  attach(screen: ApprovalScreen): void {
    this.screen = screen;
  }

  /** A call like `request` was approved for the session. */
  covers(request: SandboxRequest): boolean {
    switch (request.kind) {
      case 'exec':
      case 'network':
        return this.commands.has(request.command);
      case 'write':
      case 'read':
        return this.directories.some((directory) => isWithin(request.path, directory));
    }
  }

  request(approval: ApprovalRequest, signal?: AbortSignal): Promise<ApprovalAnswer> {
    const answer = this.queue.then(() => this.ask(approval, signal));
    this.queue = answer.catch(() => {}); // the next question waits for this one's turn, not for its outcome
    return answer;
  }

  private async ask(approval: ApprovalRequest, signal: AbortSignal | undefined): Promise<ApprovalAnswer> {
    const { request } = approval;
    // Approved for the session while this one waited its turn.
    if (this.covers(request)) return { approved: true };
    const denied = (why: string): ApprovalAnswer => ({ approved: false, reason: `${why}: ${approval.reason}` });
    const screen = this.screen;
    if (!screen) return { approved: false, reason: approval.reason };
    if (signal?.aborted) return denied('the call was cancelled before the user answered');
    const question = questionFor(approval);
    const choice = await screen.askApproval(question, signal).catch(() => 'deny' as const);
    const { green, red } = screen.palette;
    if (choice === 'deny') {
      screen.note(red(`  ✗ denied: ${question.subject}`));
      return denied(signal?.aborted ? 'the call was cancelled before the user answered' : 'the user denied it');
    }
    if (choice === 'session') {
      if (request.kind === 'exec' || request.kind === 'network') this.commands.add(request.command);
      else this.directories.push(dirname(request.path));
    }
    screen.note(green(`  ✓ approved ${choice === 'once' ? 'once' : `for this session (${question.sessionScope})`}: ${question.subject}`));
    return { approved: true };
  }
}

/** What the user is shown for `approval`. */
export function questionFor(approval: ApprovalRequest): ApprovalQuestion {
  const { request, mode, reason } = approval;
  switch (request.kind) {
    case 'exec':
      return {
        title: `legate asks to run this command outside its sandbox (${mode})`,
        subject: request.command,
        reason,
        sessionScope: 'this command',
      };
    case 'network':
      // web_fetch of a host outside web.allowed_domains comes as the command `web_fetch <url>`.
      if (request.command.startsWith('web_fetch ')) {
        return { title: `legate asks to fetch this URL, outside web.allowed_domains (${mode})`, subject: request.command, reason, sessionScope: 'this URL' };
      }
      return { title: `legate asks for network access for this command (${mode})`, subject: request.command, reason, sessionScope: 'this command' };
    case 'write':
    case 'read':
      return {
        title: `legate asks to ${request.kind === 'write' ? 'write to' : 'read'} this path, outside its sandbox (${mode})`,
        subject: request.path,
        reason,
        sessionScope: `${request.kind}s under ${dirname(request.path)}`,
      };
  }
}
