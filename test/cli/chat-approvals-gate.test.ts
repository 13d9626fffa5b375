import { describe, expect, test } from 'vitest';
import { type ApprovalScreen, ChatApprovals, questionFor } from '../../src/cli/chat-approvals.js';
import { noColors } from '../../src/cli/colors.js';
import type { ApprovalChoice, ApprovalQuestion } from '../../src/cli/tui/chat-screen.js';
import type { ApprovalRequest } from '../../src/sandbox/approval-gate.js';

/**
 * The chat's gate for the agent's own calls, against a screen that answers from a list (the
 * terminal side is tested in tmux: chat-approvals.test.ts). What "for the session" covers, the
 * order of questions, and what the model is told on a denial.
 */
class AnsweringScreen implements ApprovalScreen {
  readonly asked: ApprovalQuestion[] = [];
  readonly notes: string[] = [];
  readonly palette = noColors;
  private readonly waiting: ((choice: ApprovalChoice) => void)[] = [];

  /** Answer each question with the next of `choices`, or hold it until `answer` when none is left. */
  constructor(private readonly choices: ApprovalChoice[] = []) {}

  askApproval(question: ApprovalQuestion, signal?: AbortSignal): Promise<ApprovalChoice> {
    this.asked.push(question);
    const next = this.choices.shift();
    if (next) return Promise.resolve(next);
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      signal?.addEventListener('abort', () => resolve('deny'), { once: true });
    });
  }

  answer(choice: ApprovalChoice): void {
    this.waiting.shift()?.(choice);
  }

  note(line: string): void {
    this.notes.push(line);
  }
}

const osSandbox = { available: true as const, kind: 'bubblewrap' as const, executable: '/usr/bin/bwrap' };
const exec = (command: string): ApprovalRequest => ({
  request: { kind: 'exec', command, cwd: '/ws', osSandbox },
  mode: 'workspace-write',
  reason: `command ${JSON.stringify(command)} asks to run outside the sandbox in workspace-write mode`,
});
const write = (path: string): ApprovalRequest => ({
  request: { kind: 'write', path },
  mode: 'read-only',
  reason: `write to ${path} refused in read-only mode`,
});

describe('the chat approval gate', () => {
  test('once approves one call; the same command asks again', async () => {
    const screen = new AnsweringScreen(['once', 'once']);
    const gate = new ChatApprovals();
    gate.attach(screen);
    expect(await gate.request(exec('make install'))).toEqual({ approved: true });
    expect(await gate.request(exec('make install'))).toEqual({ approved: true });
    expect(screen.asked.map((question) => question.subject)).toEqual(['make install', 'make install']);
    expect(screen.notes).toEqual(['  ✓ approved once: make install', '  ✓ approved once: make install']);
  });

  test('for the session: the same command line goes ahead unasked; another command is asked', async () => {
    const screen = new AnsweringScreen(['session', 'deny']);
    const gate = new ChatApprovals();
    gate.attach(screen);
    expect(await gate.request(exec('make install'))).toEqual({ approved: true });
    expect(await gate.request(exec('make install'))).toEqual({ approved: true });
    expect(await gate.request(exec('make install DESTDIR=/'))).toEqual({
      approved: false,
      reason: 'the user denied it: command "make install DESTDIR=/" asks to run outside the sandbox in workspace-write mode',
    });
    expect(screen.asked.map((question) => question.subject)).toEqual(['make install', 'make install DESTDIR=/']);
    expect(screen.notes).toEqual(['  ✓ approved for this session (this command): make install', '  ✗ denied: make install DESTDIR=/']);
  });

  test('for the session, a write: any write under the same directory; not a sibling directory', async () => {
    const screen = new AnsweringScreen(['session', 'deny']);
    const gate = new ChatApprovals();
    gate.attach(screen);
    expect(await gate.request(write('/srv/out/a.txt'))).toEqual({ approved: true });
    expect(screen.asked[0]!.sessionScope).toBe('writes under /srv/out');
    expect(await gate.request(write('/srv/out/b.txt'))).toEqual({ approved: true });
    expect(await gate.request(write('/srv/out/deeper/c.txt'))).toEqual({ approved: true });
    expect((await gate.request(write('/srv/outside/d.txt'))).approved).toBe(false);
    expect(screen.asked.map((question) => question.subject)).toEqual(['/srv/out/a.txt', '/srv/outside/d.txt']);
  });

  test('one question at a time, in order; one approved for the session meanwhile lets the same waiting one through', async () => {
    const screen = new AnsweringScreen();
    const gate = new ChatApprovals();
    gate.attach(screen);
    const first = gate.request(exec('npm publish'));
    const second = gate.request(exec('npm publish'));
    const third = gate.request(exec('rm -rf /tmp/x'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(screen.asked.map((question) => question.subject)).toEqual(['npm publish']);
    screen.answer('session');
    expect(await first).toEqual({ approved: true });
    expect(await second).toEqual({ approved: true });
    await new Promise((resolve) => setImmediate(resolve));
    expect(screen.asked.map((question) => question.subject)).toEqual(['npm publish', 'rm -rf /tmp/x']);
    screen.answer('deny');
    expect((await third).approved).toBe(false);
  });

  test('an aborted call is denied as cancelled; without a screen (agent.approval: never) the policy refusal stands', async () => {
    const screen = new AnsweringScreen();
    const gate = new ChatApprovals();
    gate.attach(screen);
    const controller = new AbortController();
    const pending = gate.request(exec('sleep 1000'), controller.signal);
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    expect(await pending).toEqual({
      approved: false,
      reason: 'the call was cancelled before the user answered: command "sleep 1000" asks to run outside the sandbox in workspace-write mode',
    });

    const unattached = new ChatApprovals();
    expect(await unattached.request(write('/etc/motd'))).toEqual({ approved: false, reason: 'write to /etc/motd refused in read-only mode' });
  });

  test('the question shows the exact command or path, the mode and the reason', () => {
    expect(questionFor(exec('echo hi > /x'))).toEqual({
      title: 'legate asks to run this command outside its sandbox (workspace-write)',
      subject: 'echo hi > /x',
      reason: 'command "echo hi > /x" asks to run outside the sandbox in workspace-write mode',
      sessionScope: 'this command',
    });
    expect(questionFor(write('/srv/out/a.txt'))).toMatchObject({
      title: 'legate asks to write to this path, outside its sandbox (read-only)',
      subject: '/srv/out/a.txt',
    });
  });
});
