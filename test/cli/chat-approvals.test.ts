import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { scriptedConfig, tempDir } from '../helpers/cli.js';
import { isParent, lastToolResults } from '../helpers/script.js';
import { linesWith, startTmux, type TmuxScreen, tmuxAvailable } from '../helpers/tmux.js';
import { bubblewrapAvailable } from '../sandbox/fixture.js';
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

describe.skipIf(!tmuxAvailable() || !bubblewrapAvailable())('legate chat: approvals of its own calls, in a terminal', () => {
  test('a command that wrote outside the workspace asks: approved once it runs again; the next is denied with Ctrl-C and the model reads the denial', async () => {
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
          return { toolCalls: [{ name: 'terminal', arguments: { command: first } }] };
        },
      },
      { label: 'after approval', match: isParent, reply: { text: 'FIRST-DONE' } },
      {
        label: 'second call',
        match: (request) => isParent(request) && request.text.includes('half typed and again'),
        reply: { toolCalls: [{ name: 'terminal', arguments: { command: second } }] },
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
    expect(asked).toContain('legate asks to run this command again, outside its sandbox (workspace-write)');
    // The exact command, whole, on a row of its own.
    expect(asked.split('\n')).toContain(`    ${first}`);
    // The policy's reason, wrapped.
    expect(asked.replace(/\n\s+/g, ' ')).toContain(
      `command ${JSON.stringify(first)} failed in workspace-write mode: it tried to write outside the writable roots (${work}`,
    );
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
    expect(result).toContain('Read-only file system');
    expect(result).toContain(`[not run again outside the sandbox: the user denied it: command ${JSON.stringify(second)} failed in workspace-write mode`);
    // Nothing of the questions stayed on the screen.
    expect(linesWith(denied, 'then Enter ›')).toEqual([]);
    expect(linesWith(denied, 'legate asks to')).toEqual([]);
    server.assertDone();
  });
});
