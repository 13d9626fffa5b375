import { afterEach, describe, expect, test } from 'vitest';
import type { ScriptedServer } from '../../src/testing/scripted-server.js';
import { runCli, scriptedConfig } from '../helpers/cli.js';
import { childWith, isParent } from '../helpers/script.js';
import { linesWith, startTmux, type TmuxScreen, tmuxAvailable } from '../helpers/tmux.js';
import { home, scriptedServer } from './cli-harness.js';

/**
 * `legate chat` in a real terminal: the built binary runs in a tmux pane (120x40) against the
 * scripted model server, and the tests read the screen (with scrollback) as the user would.
 */

const screens: TmuxScreen[] = [];
afterEach(() => {
  for (const screen of screens.splice(0)) screen.kill();
});

function chat(
  server: ScriptedServer,
  args: string[] = [],
  env: Record<string, string> = {},
): { screen: TmuxScreen; legateHome: string; work: string; configFile: string } {
  const { home: legateHome, work, configFile } = home(scriptedConfig(server.openaiBaseUrl));
  const screen = startTmux(['--config', configFile, 'chat', ...args], { cwd: work, env: { HOME: legateHome, LEGATE_HOME: legateHome, ...env } });
  screens.push(screen);
  return { screen, legateHome, work, configFile };
}

/** A parent that spawns one async task (goal `goal`) and says `reply`. */
function spawnSteps(goal: string, reply: string): Parameters<ScriptedServer['enqueue']> {
  return [
    {
      label: 'spawn',
      match: (request) => isParent(request) && request.text.includes(`start ${goal}`),
      reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal } }] },
    },
    { label: 'spawned', match: isParent, reply: { text: reply } },
  ];
}

const prompt = (screen: string): boolean => /you›\s*$/.test(screen);

describe.skipIf(!tmuxAvailable())('legate chat in a terminal', () => {
  test('typed lines stay in the transcript while the dock redraws; no stale dock lines; typing survives a redraw', async () => {
    const server = await scriptedServer();
    let release: () => void = () => {};
    const childDone = new Promise<void>((resolve) => (release = resolve));
    server.enqueue(
      ...spawnSteps('DOCK-GOAL', 'SPAWNED-DOCK'),
      { label: 'child', match: childWith('DOCK-GOAL'), reply: async () => (await childDone, { text: 'DOCK-SUMMARY: done' }) },
      { label: 'how', match: (request) => isParent(request) && request.text.includes('how is it going?'), reply: { text: 'STILL-RUNNING-REPLY' } },
      { label: 'notice', match: (request) => isParent(request) && request.text.includes('DOCK-SUMMARY'), reply: { text: 'NOTICE-REPLY' } },
    );
    const { screen } = chat(server);
    await screen.waitFor(prompt, 'the prompt');
    screen.type('start DOCK-GOAL');
    screen.keys('Enter');
    await screen.waitFor((text) => text.includes('SPAWNED-DOCK') && /◆ t_[0-9a-f]+ running/.test(text), 'the reply and the dock');
    // Let the dock tick a few times (its elapsed time changes each second).
    await screen.waitFor((text) => /◆ t_[0-9a-f]+ running +[3-9]s/.test(text), 'the dock at 3s or more');

    screen.type('how is it going?');
    screen.keys('Enter');
    await screen.waitFor((text) => text.includes('STILL-RUNNING-REPLY'), 'the reply to the second line');
    screen.type('/tasks');
    screen.keys('Enter');
    await screen.waitFor((text) => /t_[0-9a-f]+ {2}running +DOCK-GOAL/.test(text), '/tasks output');
    // Something half typed survives the dock's redraws.
    screen.type('half typed');
    await screen.waitFor((text) => /◆ t_[0-9a-f]+ running +[5-9]s/.test(text), 'more dock redraws');
    const during = screen.capture();
    expect(during.split('\n').at(-1)).toBe('you› half typed');

    release();
    await screen.waitFor((text) => text.includes('NOTICE-REPLY'), 'the notice turn');
    const text = await screen.waitFor((screenText) => prompt(screenText.replace(/half typed$/, '')) && !screenText.includes('◆'), 'the dock gone');
    if (process.env.SHOW_SCREENS) console.log(during + '\n=====\n' + text);
    // Every typed line is in the transcript, once, in order, each before its reply.
    const lines = text.split('\n');
    const at = (needle: string): number => lines.findIndex((line) => line.includes(needle));
    expect(linesWith(text, 'you› start DOCK-GOAL')).toHaveLength(1);
    expect(linesWith(text, 'you› how is it going?')).toHaveLength(1);
    expect(linesWith(text, 'you› /tasks')).toHaveLength(1);
    expect(at('you› start DOCK-GOAL')).toBeLessThan(at('legate› SPAWNED-DOCK'));
    expect(at('legate› SPAWNED-DOCK')).toBeLessThan(at('you› how is it going?'));
    expect(at('you› how is it going?')).toBeLessThan(at('legate› STILL-RUNNING-REPLY'));
    expect(at('legate› STILL-RUNNING-REPLY')).toBeLessThan(at('you› /tasks'));
    expect(at('── A background task you started has ended.')).toBeLessThan(at('legate› NOTICE-REPLY'));
    // No dock line (or its status line) stayed behind in the transcript.
    expect(linesWith(text, '◆')).toEqual([]);
    expect(linesWith(text, '⧗')).toEqual([]);
    expect(text.split('\n').at(-1)).toBe('you› half typed');
    server.assertDone();
  });

  // The resize comes with keys typed in the same instant (the program stopped meanwhile): the
  // redraw for a key may run before the SIGWINCH handler, and must still erase at the new width.
  test('a narrower terminal: the re-wrapped dock is still erased whole, the prompt and typing stay', async () => {
    const server = await scriptedServer();
    let release: () => void = () => {};
    const childDone = new Promise<void>((resolve) => (release = resolve));
    const goal = 'RESIZE-GOAL with a long description so that the dock line is wider than the narrowed window';
    server.enqueue(
      ...spawnSteps(goal, 'SPAWNED-RESIZE'),
      { label: 'child', match: childWith('RESIZE-GOAL'), reply: async () => (await childDone, { text: 'RESIZE-SUMMARY' }) },
      { label: 'notice', match: (request) => isParent(request) && request.text.includes('RESIZE-SUMMARY'), reply: { text: 'RESIZE-NOTICE' } },
    );
    const { screen } = chat(server);
    await screen.waitFor(prompt, 'the prompt');
    screen.type(`start ${goal}`);
    screen.keys('Enter');
    await screen.waitFor((text) => text.includes('SPAWNED-RESIZE') && /◆ t_[0-9a-f]+ running +\d+s/.test(text), 'the dock');
    screen.type('still typing');
    await screen.waitFor((text) => text.endsWith('you› still typing'), 'the typing');
    screen.whileStopped(() => {
      screen.type('!');
      screen.resize(70, 40);
      screen.type('?');
    });
    await screen.waitFor(
      (text) => /◆ t_[0-9a-f]+ running +[3-9]s/.test(text) && text.endsWith('you› still typing!?'),
      'the dock redrawn after the resize, and the keys',
    );
    const narrow = screen.capture();
    expect(linesWith(narrow, '◆')).toHaveLength(1);
    expect(linesWith(narrow, 'you›')).toEqual([`you› start ${goal}`, 'you› still typing!?']);
    release();
    const text = await screen.waitFor((screenText) => screenText.includes('RESIZE-NOTICE') && !screenText.includes('◆'), 'the notice');
    expect(text.split('\n').at(-1)).toBe('you› still typing!?');
    server.assertDone();
  });

  test('a pasted text of several lines is one message; long typing scrolls within the prompt row', async () => {
    const server = await scriptedServer([
      { label: 'pasted', match: (request) => isParent(request) && request.text.includes('PASTE-ONE\nPASTE-TWO'), reply: { text: 'PASTE-REPLY' } },
    ]);
    const { screen } = chat(server, [], {});
    await screen.waitFor(prompt, 'the prompt');
    screen.paste('PASTE-ONE\nPASTE-TWO');
    await screen.waitFor((text) => text.split('\n').at(-1) === 'you› PASTE-ONE↵PASTE-TWO', 'the pasted text in the prompt');
    screen.keys('Enter');
    const text = await screen.waitFor((screenText) => screenText.includes('legate› PASTE-REPLY') && prompt(screenText), 'the reply');
    expect(text).toContain('you› PASTE-ONE\nPASTE-TWO\nlegate› PASTE-REPLY');
    screen.type('x'.repeat(300));
    const long = await screen.waitFor((screenText) => /^you› …x{100,}$/.test(screenText.split('\n').at(-1)!), 'the long line, scrolled');
    expect(long.split('\n').at(-1)!.length).toBeLessThan(120);
    expect(linesWith(long, 'xxx')).toHaveLength(1);
    server.assertDone();
  });

  test('Ctrl-C interrupts a turn that is streaming; the next line is answered', async () => {
    const server = await scriptedServer([
      {
        label: 'slow',
        match: (request) => isParent(request) && request.text.includes('tell a long story'),
        reply: { text: `ONCE-UPON ${'and then '.repeat(400)}`, chunkDelayMs: 50 },
      },
      { label: 'next', match: (request) => isParent(request) && request.text.includes('shorter please'), reply: { text: 'SHORT-REPLY' } },
    ]);
    const { screen } = chat(server);
    await screen.waitFor(prompt, 'the prompt');
    screen.type('tell a long story');
    screen.keys('Enter');
    await screen.waitFor(
      (text) => text.includes('legate› ONCE-UPON and then and then') && /⧗ working \d+s · Ctrl-C interrupts/.test(text),
      'the streaming turn and its status',
    );
    screen.keys('C-c');
    await screen.waitFor((text) => text.includes('(turn interrupted)') && prompt(text) && !text.includes('⧗'), 'the interrupted turn');
    screen.type('shorter please');
    screen.keys('Enter');
    const text = await screen.waitFor((screenText) => screenText.includes('legate› SHORT-REPLY') && prompt(screenText), 'the next reply');
    const lines = text.split('\n');
    const interruptedAt = lines.findIndex((line) => line.includes('(turn interrupted)'));
    expect(lines[interruptedAt - 1]).toMatch(/and then\s*$/);
    expect(lines[interruptedAt + 1]).toBe('you› shorter please');
    server.assertDone();
  });

  test('the second Ctrl-C leaves at once and hands the running task back as interrupted', async () => {
    const server = await scriptedServer();
    server.enqueue(...spawnSteps('HANG-GOAL', 'SPAWNED-HANG'), { label: 'child', match: childWith('HANG-GOAL'), reply: { hang: true } });
    const { screen, legateHome, work, configFile } = chat(server);
    await screen.waitFor(prompt, 'the prompt');
    screen.type('start HANG-GOAL');
    screen.keys('Enter');
    await screen.waitFor((text) => text.includes('SPAWNED-HANG') && text.includes('◆'), 'the task running');
    screen.keys('C-c');
    await screen.waitFor((text) => text.includes('waiting for 1 background task before leaving'), 'the first Ctrl-C');
    const started = Date.now();
    screen.keys('C-c');
    expect(await screen.waitForExit(10_000)).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    const text = screen.capture();
    expect(text).toMatch(/t_[0-9a-f]+ handed back as interrupted: legate worker, or legate tasks resume t_[0-9a-f]+, continues it/);
    expect(linesWith(text, '◆')).toEqual([]);
    const listed = await runCli(['--config', configFile, 'tasks', 'list', '--json'], { home: legateHome, cwd: work });
    expect(JSON.parse(listed.stdout).tasks).toEqual([expect.objectContaining({ status: 'interrupted' })]);
  });

  test('/collect shows its wait; Ctrl-C stops the wait, not the task; a line typed meanwhile is kept; the result is not glued to the prompt', async () => {
    const server = await scriptedServer();
    let release: () => void = () => {};
    const childDone = new Promise<void>((resolve) => (release = resolve));
    server.enqueue(
      ...spawnSteps('COLLECT-GOAL', 'SPAWNED-COLLECT'),
      { label: 'child', match: childWith('COLLECT-GOAL'), reply: async () => (await childDone, { text: 'COLLECT-SUMMARY: all counted' }) },
      { label: 'queued', match: (request) => isParent(request) && request.text.includes('typed while waiting'), reply: { text: 'QUEUED-REPLY' } },
    );
    const { screen } = chat(server);
    await screen.waitFor(prompt, 'the prompt');
    screen.type('start COLLECT-GOAL');
    screen.keys('Enter');
    const spawned = await screen.waitFor((text) => text.includes('SPAWNED-COLLECT') && /◆ t_[0-9a-f]+/.test(text), 'the task running');
    const id = /◆ (t_[0-9a-f]+)/.exec(spawned)![1]!;

    screen.type(`/collect ${id}`);
    screen.keys('Enter');
    await screen.waitFor(
      (text) => new RegExp(`⧗ waiting for ${id} [1-9]\\d*s · Ctrl-C stops waiting \\(the task keeps running\\)`).test(text),
      'the wait with its elapsed time',
    );
    screen.type('typed while waiting');
    screen.keys('Enter');
    await screen.waitFor((text) => text.includes('↳ queued: typed while waiting'), 'the queued line shown');
    screen.keys('C-c');
    await screen.waitFor((text) => text.includes(`stopped waiting for ${id}; it is still running`), 'the wait stopped');
    await screen.waitFor((text) => text.includes('legate› QUEUED-REPLY'), 'the queued line answered');
    expect(screen.capture()).toMatch(new RegExp(`◆ ${id} running`));

    screen.type(`/collect ${id}`);
    screen.keys('Enter');
    await screen.waitFor((text) => linesWith(text, '⧗ waiting for').length === 1 && linesWith(text, `you› /collect ${id}`).length === 2, 'the second wait');
    release();
    const text = await screen.waitFor(
      (screenText) => screenText.includes('COLLECT-SUMMARY: all counted') && prompt(screenText),
      'the collected summary and the prompt',
    );
    const lines = text.split('\n');
    const resultAt = lines.indexOf(`${id} completed`);
    expect(resultAt).toBeGreaterThan(0);
    expect(lines[resultAt + 1]).toContain('COLLECT-SUMMARY: all counted');
    expect(lines.at(-1)).toBe('you›');
    expect(linesWith(text, 'you› typed while waiting')).toHaveLength(1);
    expect(lines.findIndex((line) => line.includes(`stopped waiting for ${id}`))).toBeLessThan(lines.indexOf('you› typed while waiting'));
    expect(linesWith(text, /you›.*you›/)).toEqual([]);
    expect(linesWith(text, '⧗')).toEqual([]);
    server.assertDone();
  });

  test('a task finished by a worker reaches the open chat --resume as one notice turn; the resumed chat shows its last turns', async () => {
    const server = await scriptedServer();
    let childSeen: () => void = () => {};
    const childInFlight = new Promise<void>((resolve) => (childSeen = resolve));
    server.enqueue(
      { label: 'spawn', match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'XPROC-GOAL' } }] } },
      // The run ends only once its child's model call is in flight, so the task is handed back mid-call.
      { label: 'spawned', match: isParent, reply: async () => (await childInFlight, { text: 'XPROC-STARTED' }) },
      { label: 'child in the run', match: childWith('XPROC-GOAL'), reply: () => (childSeen(), { hang: true }) },
      { label: 'child in the worker', match: childWith('XPROC-GOAL'), reply: { text: 'XPROC-SUMMARY: finished by the worker' } },
      { label: 'notice', match: (request) => isParent(request) && request.text.includes('XPROC-SUMMARY'), reply: { text: 'XPROC-NOTICE-SEEN' } },
    );
    const { home: legateHome, work, configFile } = home(scriptedConfig(server.openaiBaseUrl));
    const run = await runCli(['--config', configFile, 'run', '--no-wait', '--json', 'start XPROC-GOAL'], { home: legateHome, cwd: work });
    expect(run.code, run.stderr).toBe(0);
    const sessionId = JSON.parse(run.stdout).session_id as string;

    const screen = startTmux(['--config', configFile, 'chat', '--resume', sessionId], { cwd: work, env: { HOME: legateHome, LEGATE_HOME: legateHome } });
    screens.push(screen);
    // The prompt may be drawn a moment before the lines above it reach the pane (a loaded machine): wait for both.
    const opened = await screen.waitFor((text) => prompt(text) && text.includes(`session ${sessionId} resumed`), 'the resumed prompt');
    // The last turns of the conversation it continues.
    expect(opened).toContain(`session ${sessionId} resumed`);
    expect(opened).toContain('you› start XPROC-GOAL');
    expect(opened).toContain('legate› XPROC-STARTED');
    expect(opened).not.toContain('XPROC-NOTICE-SEEN');

    const worker = await runCli(['--config', configFile, 'worker', '--until-idle'], { home: legateHome, cwd: work });
    expect(worker.code, worker.stderr).toBe(0);
    const workerDone = Date.now();
    await screen.waitFor((text) => text.includes('legate› XPROC-NOTICE-SEEN'), 'the notice turn', 10_000);
    expect(Date.now() - workerDone).toBeLessThan(5_000);
    // Once: a later command (after more polls) brings no second notice.
    await screen.waitFor(prompt, 'the prompt after the notice');
    screen.type('/tasks');
    screen.keys('Enter');
    const text = await screen.waitFor((screenText) => /t_[0-9a-f]+ {2}completed +XPROC-GOAL/.test(screenText) && prompt(screenText), '/tasks');
    expect(linesWith(text, '── A background task you started has ended.')).toHaveLength(1);
    expect(linesWith(text, 'legate› XPROC-NOTICE-SEEN')).toHaveLength(1);
    expect(linesWith(text, /you›.+──/)).toEqual([]);
    expect(server.requests.filter((request) => isParent(request) && request.text.includes('XPROC-SUMMARY'))).toHaveLength(1);
    server.assertDone();
  });

  test('colours in a terminal; none with NO_COLOR', async () => {
    const server = await scriptedServer([
      { match: isParent, reply: { text: 'COLOUR-REPLY' } },
      { match: isParent, reply: { text: 'PLAIN-REPLY' } },
    ]);
    const sgr = /\x1b\[[0-9;]*m/;
    const coloured = chat(server).screen;
    await coloured.waitFor(prompt, 'the prompt');
    coloured.type('hello');
    coloured.keys('Enter');
    const withColour = await coloured.waitFor((text) => text.includes('COLOUR-REPLY'), 'the reply', 15_000, { escapes: true });
    expect(withColour).toMatch(sgr);
    expect(linesWith(withColour, 'COLOUR-REPLY')[0]).toMatch(/\x1b\[[0-9;]*m.*legate›/);

    const plain = chat(server, [], { NO_COLOR: '1' }).screen;
    await plain.waitFor(prompt, 'the prompt');
    plain.type('hello');
    plain.keys('Enter');
    const withoutColour = await plain.waitFor((text) => text.includes('PLAIN-REPLY'), 'the reply', 15_000, { escapes: true });
    expect(withoutColour).not.toMatch(sgr);
    server.assertDone();
  });
});

describe('legate chat without a terminal', () => {
  test('no colours on a pipe', async () => {
    const server = await scriptedServer([{ match: isParent, reply: { text: 'PIPE-REPLY' } }]);
    const { home: legateHome, work, configFile } = home(scriptedConfig(server.openaiBaseUrl));
    const result = await runCli(['--config', configFile, 'chat'], { home: legateHome, cwd: work, input: 'hello\n/help\n' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('legate› PIPE-REPLY');
    expect(result.stdout).toContain('/collect ID');
    expect(result.stdout + result.stderr).not.toContain('\x1b[');
  });

  test('chat --resume of an unknown session says session_not_found and exits 1, like any not-found', async () => {
    const { home: legateHome, work, configFile } = home(scriptedConfig('http://127.0.0.1:9/v1'));
    const result = await runCli(['--config', configFile, 'chat', '--resume', 's_bogus'], { home: legateHome, cwd: work });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('legate: session_not_found: no session "s_bogus" in this LEGATE_HOME\n');
    const show = await runCli(['--config', configFile, 'tasks', 'show', 't_bogus'], { home: legateHome, cwd: work });
    expect(show.code).toBe(result.code);
  });
});
