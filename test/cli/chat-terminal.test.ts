import { afterEach, describe, expect, test } from 'vitest';
import type { ScriptedServer } from '../../src/testing/scripted-server.js';
import { scriptedConfig } from '../helpers/cli.js';
import { childWith, isParent } from '../helpers/script.js';
import { linesWith, startTmux, tmuxAvailable, type TmuxScreen } from '../helpers/tmux.js';
import { home, scriptedServer } from './cli-harness.js';

/**
 * `legate chat` in a real terminal: the built binary runs in a tmux pane (120x40) against the
 * scripted model server, and the tests read the screen (with scrollback) as the user would.
 */

const screens: TmuxScreen[] = [];
afterEach(() => {
  for (const screen of screens.splice(0)) screen.kill();
});

function chat(server: ScriptedServer, args: string[] = [], env: Record<string, string> = {}): { screen: TmuxScreen; legateHome: string; work: string; configFile: string } {
  const { home: legateHome, work, configFile } = home(scriptedConfig(server.openaiBaseUrl));
  const screen = startTmux(['--config', configFile, 'chat', ...args], { cwd: work, env: { HOME: legateHome, LEGATE_HOME: legateHome, ...env } });
  screens.push(screen);
  return { screen, legateHome, work, configFile };
}

/** A parent that spawns one async task (goal `goal`) and says `reply`. */
function spawnSteps(goal: string, reply: string): Parameters<ScriptedServer['enqueue']> {
  return [
    { label: 'spawn', match: (request) => isParent(request) && request.text.includes(`start ${goal}`), reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal } }] } },
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
    if (process.env.SHOW_SCREENS) console.log(during + "\n=====\n" + text);
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

  test('the second Ctrl-C leaves at once and hands the running task back as interrupted', async () => {
    const server = await scriptedServer();
    server.enqueue(...spawnSteps('HANG-GOAL', 'SPAWNED-HANG'), { label: 'child', match: childWith('HANG-GOAL'), reply: { hang: true } });
    const { screen } = chat(server);
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
  });
});
