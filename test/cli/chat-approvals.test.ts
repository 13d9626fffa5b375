import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { scriptedConfig, tempDir } from '../helpers/cli.js';
import { childWith, isChild, isParent, lastToolResults } from '../helpers/script.js';
import { linesWith, startTmux, type TmuxScreen, tmuxAvailable } from '../helpers/tmux.js';
import { home, scriptedServer } from './cli-harness.js';

/**
 * The chat's approval prompt in a real terminal (tmux, as in chat-terminal.test.ts): the agent's
 * own call outside its sandbox mode is put to the user, who answers in place of the prompt.
 */

const screens: TmuxScreen[] = [];
afterEach(() => {
  for (const screen of screens.splice(0)) screen.kill();
});

const prompt = (screen: string): boolean => /you›\s*$/.test(screen);
const lastLine = (screen: string): string => screen.split('\n').at(-1)!;

describe.skipIf(!tmuxAvailable())('legate chat: approvals of its own calls, in a terminal', () => {
  test('a command asking to leave the sandbox is put to the user: approved once it runs; the next is denied with Ctrl-C and the model reads the denial', async () => {
    const outside = realpathSync(tempDir('legate-outside-'));
    const one = join(outside, 'one.txt');
    const two = join(outside, 'two.txt');
    const first = `echo APPROVED-WRITE > ${one}`;
    const second = `echo DENIED-WRITE > ${two}`;
    let typed: () => void = () => {};
    const halfTyped = new Promise<void>((resolve) => (typed = resolve));
    const server = await scriptedServer([
      {
        label: 'first call',
        match: (request) => isParent(request) && request.text.includes('write outside please'),
        // The call comes once the user has half typed a line: the question must not lose it.
        reply: async () => {
          await halfTyped;
          return { toolCalls: [{ name: 'terminal', arguments: { command: first, escalate: true } }] };
        },
      },
      { label: 'after approval', match: isParent, reply: { text: 'FIRST-DONE' } },
      {
        label: 'second call',
        match: (request) => isParent(request) && request.text.includes('half typed and again'),
        reply: { toolCalls: [{ name: 'terminal', arguments: { command: second, escalate: true } }] },
      },
      { label: 'after denial', match: isParent, reply: { text: 'SECOND-DENIED' } },
    ]);
    const { home: legateHome, work, configFile } = home(scriptedConfig(server.openaiBaseUrl));
    const screen = startTmux(['--config', configFile, 'chat'], { cwd: work, env: { HOME: legateHome, LEGATE_HOME: legateHome } });
    screens.push(screen);
    await screen.waitFor(prompt, 'the prompt');

    screen.type('write outside please');
    screen.keys('Enter');
    await screen.waitFor((text) => text.includes('⧗ working'), 'the turn');
    screen.type('half typed');
    await screen.waitFor((text) => lastLine(text) === 'you› half typed', 'the half-typed line');
    typed();
    const asked = await screen.waitFor((text) => text.includes('deny, then Enter ›'), 'the approval question');
    expect(asked).toContain('legate asks to run this command outside its sandbox (workspace-write)');
    // The exact command, whole, on a row of its own.
    expect(asked.split('\n')).toContain(`    ${first}`);
    // The policy's reason, wrapped.
    expect(asked.replace(/\n\s+/g, ' ')).toContain(`command ${JSON.stringify(first)} asks to run outside the sandbox in workspace-write mode`);
    expect(asked).not.toContain('you› half typed');
    expect(existsSync(one)).toBe(false);
    // A key selects; only Enter answers.
    screen.type('y');
    await screen.waitFor((text) => lastLine(text).endsWith('deny, then Enter › once'), 'the selection');
    expect(existsSync(one)).toBe(false);
    screen.keys('Enter');
    const approved = await screen.waitFor((text) => text.includes('legate› FIRST-DONE') && lastLine(text) === 'you› half typed', 'the reply after approval');
    expect(approved).toContain(`✓ approved once: ${first}`);
    expect(readFileSync(one, 'utf8')).toBe('APPROVED-WRITE\n');
    const afterApproval = server.requests.find((request) => isParent(request) && request.text.includes('APPROVED-WRITE'))!;
    expect(lastToolResults(afterApproval)).toEqual(['exit code: 0\n(no output)']);

    screen.type(' and again');
    screen.keys('Enter');
    await screen.waitFor((text) => text.split('\n').includes(`    ${second}`) && text.includes('deny, then Enter ›'), 'the second question');
    screen.keys('C-c');
    const denied = await screen.waitFor((text) => text.includes('legate› SECOND-DENIED') && prompt(text), 'the reply after the denial');
    expect(denied).toContain(`✗ denied: ${second}`);
    expect(denied).not.toContain('(turn interrupted)');
    expect(existsSync(two)).toBe(false);
    const afterDenial = server.requests.at(-1)!;
    const [result] = lastToolResults(afterDenial) as string[];
    expect(result).toContain(`sandbox_denied: the user denied it: command ${JSON.stringify(second)} asks to run outside the sandbox`);
    // Nothing of the questions stayed on the screen.
    expect(linesWith(denied, 'then Enter ›')).toEqual([]);
    expect(linesWith(denied, 'legate asks to')).toEqual([]);
    server.assertDone();
  });

  test('a write outside the workspace, approved for the session with a: the next write in that directory goes ahead unasked', async () => {
    const outside = realpathSync(tempDir('legate-outside-'));
    const first = join(outside, 'out', 'first.txt');
    const second = join(outside, 'out', 'second.txt');
    const server = await scriptedServer([
      {
        label: 'first write',
        match: (request) => isParent(request) && request.text.includes('write twice'),
        reply: { toolCalls: [{ name: 'write_file', arguments: { path: first, content: 'FIRST\n' } }] },
      },
      {
        label: 'second write',
        match: (request) => isParent(request) && request.text.includes(`created ${first}`),
        reply: { toolCalls: [{ name: 'write_file', arguments: { path: second, content: 'SECOND\n' } }] },
      },
      { label: 'done', match: isParent, reply: { text: 'BOTH-WRITTEN' } },
    ]);
    const { home: legateHome, work, configFile } = home(scriptedConfig(server.openaiBaseUrl));
    const screen = startTmux(['--config', configFile, 'chat'], { cwd: work, env: { HOME: legateHome, LEGATE_HOME: legateHome } });
    screens.push(screen);
    await screen.waitFor(prompt, 'the prompt');
    screen.type('write twice');
    screen.keys('Enter');
    // write_file makes the missing directory first: that is the write asked about.
    const asked = await screen.waitFor((text) => text.includes('deny, then Enter ›'), 'the question');
    expect(asked).toContain('legate asks to write to this path, outside its sandbox (workspace-write)');
    expect(asked.split('\n')).toContain(`    ${join(outside, 'out')}`);
    expect(asked).toContain(`for this session (writes under ${outside})`);
    screen.type('a');
    screen.keys('Enter');
    const text = await screen.waitFor((screenText) => screenText.includes('legate› BOTH-WRITTEN') && prompt(screenText), 'both writes');
    // One question, one answer noted (the transcript wraps it at a space).
    expect(linesWith(text, '✓ approved')).toHaveLength(1);
    expect(text.replace(/\n(?=\/)/g, ' ')).toContain(`  ✓ approved for this session (writes under ${outside}): ${join(outside, 'out')}`);
    expect(readFileSync(first, 'utf8')).toBe('FIRST\n');
    expect(readFileSync(second, 'utf8')).toBe('SECOND\n');
    server.assertDone();
  });

  test('a background child parks waiting for approval; the dock and /tasks show its request; /deny gives it the reason; /approve lets the next run once', async () => {
    const outside = realpathSync(tempDir('legate-outside-'));
    const refused = join(outside, 'refused.txt');
    const denied = `echo REFUSED > ${refused}`;
    const target = join(outside, 'child.txt');
    const command = `echo CHILD-WRITE > ${target}`;
    const server = await scriptedServer([
      {
        label: 'spawn',
        match: (request) => isParent(request) && request.text.includes('start APPROVE-GOAL'),
        reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'APPROVE-GOAL' } }] },
      },
      { label: 'spawned', match: (request) => isParent(request) && request.text.includes('"task_id"'), reply: { text: 'SPAWNED-APPROVE' } },
      { label: 'child asks', match: childWith('APPROVE-GOAL'), reply: { toolCalls: [{ name: 'terminal', arguments: { command: denied, escalate: true } }] } },
      { label: 'waiting notice', match: (request) => isParent(request) && request.text.includes('is waiting for approval'), reply: { text: 'NOTICE-WAITING' } },
      {
        label: 'child denied, asks again',
        match: childWith('APPROVE-GOAL', 'not today'),
        reply: { toolCalls: [{ name: 'terminal', arguments: { command, escalate: true } }] },
      },
      { label: 'second notice', match: (request) => isParent(request) && request.text.includes('is waiting for approval'), reply: { text: 'NOTICE-AGAIN' } },
      { label: 'child after the call', match: childWith('APPROVE-GOAL'), reply: { text: 'CHILD-SUMMARY: wrote it' } },
      { label: 'ended notice', match: (request) => isParent(request) && request.text.includes('CHILD-SUMMARY'), reply: { text: 'NOTICE-DONE' } },
    ]);
    const { home: legateHome, work, configFile } = home(scriptedConfig(server.openaiBaseUrl));
    const screen = startTmux(['--config', configFile, 'chat'], { cwd: work, env: { HOME: legateHome, LEGATE_HOME: legateHome } });
    screens.push(screen);
    await screen.waitFor(prompt, 'the prompt');
    screen.type('start APPROVE-GOAL');
    screen.keys('Enter');
    const parked = await screen.waitFor(
      (text) => /◆ t_[0-9a-f]+ waiting/.test(text) && text.includes('legate› NOTICE-WAITING') && prompt(text),
      'the task waiting in the dock, and the notice turn',
    );
    const id = /◆ (t_[0-9a-f]+) waiting/.exec(parked)![1]!;
    expect(parked).toContain(`? waits for approval (workspace-write) · /approve ${id} · /deny ${id} [reason]\n        run ${denied}\nyou›`);
    expect(parked).not.toContain('deny, then Enter ›');

    screen.type(`/deny ${id} not today`);
    screen.keys('Enter');
    const again = await screen.waitFor(
      (text) => text.includes('legate› NOTICE-AGAIN') && text.includes(`        run ${command}\nyou›`),
      'the second request, after the denial',
    );
    expect(again).toMatch(new RegExp(`denied ${id} \\(request [^)]+\\): the task gets the denial \\(not today\\) and goes on`));
    expect(existsSync(refused)).toBe(false);
    const afterDenial = server.requests.find((request) => isChild(request) && request.text.includes('not today'))!;
    expect(lastToolResults(afterDenial)).toEqual([
      `tool_failed: terminal: sandbox_denied: running command ${JSON.stringify(denied)} outside the sandbox was denied by ${userInfo().username} (legate chat): not today`,
    ]);
    expect(existsSync(target)).toBe(false);

    screen.type('/tasks');
    screen.keys('Enter');
    const listed = await screen.waitFor((text) => text.includes(`${id}  input_required`) && prompt(text), '/tasks');
    expect(listed).toMatch(new RegExp(`waits for approval \\(request [^)]+\\): /approve ${id} or /deny ${id} \\[reason\\]\n    exec: `));
    expect(listed.split('\n')).toContain(`    exec: ${command}`);

    screen.type('/approve t_bogus');
    screen.keys('Enter');
    await screen.waitFor((text) => text.includes('! unknown_task: no task "t_bogus" in this session; nothing to approve or deny'), 'the unknown id');

    screen.type(`/approve ${id}`);
    screen.keys('Enter');
    const done = await screen.waitFor(
      (text) => text.includes('legate› NOTICE-DONE') && !text.includes('◆') && prompt(text),
      'the task finishing and its notice',
    );
    expect(done).toMatch(new RegExp(`approved ${id} \\(request [^)]+\\): the call runs once and the task goes on`));
    expect(readFileSync(target, 'utf8')).toBe('CHILD-WRITE\n');
    // The child's call ran once, and its result went back to the child.
    const afterCall = server.requests.filter((request) => isChild(request) && request.text.includes('exit code'));
    expect(afterCall).toHaveLength(1);
    expect(lastToolResults(afterCall[0]!)).toEqual(['exit code: 0\n(no output)']);

    screen.type(`/approve ${id}`);
    screen.keys('Enter');
    await screen.waitFor((text) => new RegExp(`! not_waiting: .*${id}.*completed`).test(text), 'not waiting any more');
    server.assertDone();
  });
});
