import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { scriptedConfig } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { isParent } from '../helpers/script.js';
import { home, scriptedServer } from './cli-harness.js';

/** The conventions a daily CLI keeps: usage errors exit 2, global options everywhere, stdin, sessions, completion. */

const commands = [['run', 'x'], ['chat'], ['demo'], ['doctor'], ['mcp'], ['worker'], ['tasks', 'list'], ['sessions', 'list']];

describe('usage', () => {
  test('--cwd to a missing directory is refused by every command, naming the path (exit 2)', async () => {
    const { home: legateHome, work } = home();
    const missing = join(work, 'no-such-dir');
    for (const command of commands) {
      const result = await runMain(['--cwd', missing, ...command], { home: legateHome, cwd: work });
      expect(result.code, `${command.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain(`--cwd: no such directory "${missing}"`);
    }
    // A file is not a directory either.
    writeFileSync(join(work, 'a-file'), '');
    const file = await runMain(['tasks', 'list', '--cwd', 'a-file'], { home: legateHome, cwd: work });
    expect(file.code).toBe(2);
    expect(file.stderr).toContain(`"${join(work, 'a-file')}" is not a directory`);
  });

  test('usage errors exit 2: unknown command or option, missing argument, bad option values, empty prompt', async () => {
    const { home: legateHome, work } = home();
    const cases: [string[], string][] = [
      [['bogus'], "unknown command 'bogus'"],
      [['run', '--bogus', 'x'], "unknown option '--bogus'"],
      [['run'], "missing required argument 'prompt'"],
      [['tasks', 'list', '--status', 'bogus'], 'unknown status "bogus"'],
      [['tasks', 'collect', 't_x', '--timeout', 'abc'], '--timeout must be a number of seconds (got "abc")'],
      [['completion', 'tcsh'], 'Allowed choices are bash, zsh, fish'],
      [['run', '  '], 'the prompt is empty'],
    ];
    for (const [args, message] of cases) {
      const result = await runMain(args, { home: legateHome, cwd: work });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain(message);
    }
    const emptyStdin = await runMain(['run', '-'], { home: legateHome, cwd: work, input: '\n' });
    expect(emptyStdin.code).toBe(2);
    expect(emptyStdin.stderr).toContain('the prompt read from stdin is empty');
  });

  test("every subcommand's help shows the global options", async () => {
    const { home: legateHome, work } = home();
    for (const command of [...commands.map((args) => args.filter((arg) => arg !== 'x')), ['tasks', 'show'], ['completion']]) {
      const result = await runMain([...command, '--help'], { home: legateHome, cwd: work });
      expect(result.code, command.join(' ')).toBe(0);
      for (const option of ['--config <file>', '--cwd <dir>', '--verbose']) expect(result.stdout, `${command.join(' ')} --help`).toContain(option);
    }
  });
});

describe('legate run: prompt and model', () => {
  test('run - reads the prompt from stdin; --model replaces the parent model', async () => {
    const server = await scriptedServer([{ reply: { text: 'ANSWER-1' } }]);
    const { home: legateHome, work } = home(scriptedConfig(server.openaiBaseUrl));

    const result = await runMain(['run', '--model', 'other-model', '-'], { home: legateHome, cwd: work, input: 'PROMPT-FROM-STDIN\nsecond line\n' });

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('ANSWER-1\n');
    expect(server.requests[0]!.text).toContain('PROMPT-FROM-STDIN\nsecond line');
    expect(server.requests[0]!.model).toBe('other-model');
    server.assertDone();
  });

  test('an empty prompt makes no model call', async () => {
    const server = await scriptedServer();
    const { home: legateHome, work } = home(scriptedConfig(server.openaiBaseUrl));
    const result = await runMain(['run', ''], { home: legateHome, cwd: work });
    expect(result.code).toBe(2);
    expect(server.requests).toHaveLength(0);
  });
});

describe('legate sessions list', () => {
  test("this directory's stored sessions with turns; --all adds the others; no key needed", async () => {
    const server = await scriptedServer();
    server.enqueue({ match: isParent, reply: { text: 'one' } }, { match: isParent, reply: { text: 'two' } });
    const { home: legateHome, work, configFile } = home(scriptedConfig(server.openaiBaseUrl));
    const other = join(work, 'other');
    mkdirSync(other);
    expect((await runMain(['run', 'first'], { home: legateHome, cwd: work })).code).toBe(0);
    expect((await runMain(['run', 'second'], { home: legateHome, cwd: other })).code).toBe(0);
    // Reading sessions needs no key: drop the config.
    writeFileSync(configFile, 'model: {provider: openai, name: m}\n');

    const here = await runMain(['sessions', 'list'], { home: legateHome, cwd: work });
    const all = await runMain(['sessions', 'list', '--all', '--json'], { home: legateHome, cwd: work });

    expect(here.code, here.stderr).toBe(0);
    const lines = here.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+UPDATED\s+TURNS\s+DIRECTORY$/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(new RegExp(`^s_\\S+\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+1\\s+${work}$`));
    const sessions = JSON.parse(all.stdout).sessions;
    expect(sessions.map((session: { cwd: string }) => session.cwd).sort()).toEqual([other, work].sort());
    expect(sessions.every((session: { turns: number }) => session.turns === 1)).toBe(true);
  });
});

describe('legate completion', () => {
  const complete = async (words: string[]): Promise<string[]> => {
    const { home: legateHome } = home();
    const script = join(legateHome, 'legate.bash');
    const generated = await runMain(['completion', 'bash'], { home: legateHome });
    expect(generated.code).toBe(0);
    writeFileSync(script, generated.stdout);
    const line =
      `source ${script}; COMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')}); ` + `COMP_CWORD=${words.length - 1}; _legate; echo "\${COMPREPLY[@]}"`;
    const { stdout } = await promisify(execFile)('bash', ['-c', line]);
    return stdout.trim().split(/\s+/).filter(Boolean);
  };

  test('bash completes commands, subcommands and options from the command tree', async () => {
    expect(await complete(['legate', 'ta'])).toEqual(['tasks']);
    expect(await complete(['legate', '--cwd', '/tmp', 'tasks', ''])).toEqual(
      expect.arrayContaining(['list', 'show', 'collect', 'steer', 'cancel', 'resume', 'prune']),
    );
    expect(await complete(['legate', 'sessions', ''])).toEqual(expect.arrayContaining(['list']));
    expect(await complete(['legate', 'run', '--mo'])).toEqual(['--model']);
    expect(await complete(['legate', 'completion', 'ba'])).toEqual(['bash']);
  });

  test('zsh and fish scripts name the commands too', async () => {
    const { home: legateHome } = home();
    const zsh = await runMain(['completion', 'zsh'], { home: legateHome });
    const fish = await runMain(['completion', 'fish'], { home: legateHome });
    expect(zsh.stdout).toContain('#compdef legate');
    expect(zsh.stdout).toContain('complete -o default -F _legate legate');
    expect(fish.stdout).toContain("complete -c legate -n '__fish_use_subcommand' -a tasks");
    expect(fish.stdout).toContain("complete -c legate -n '__fish_seen_subcommand_from tasks' -a prune");
  });
});
