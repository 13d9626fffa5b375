import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { type CliResult, runCli, startCli, tempHome, until } from '../helpers/cli.js';
import { filesUnder } from '../helpers/files.js';
import { childWith, isParent, lastToolResults, taskIds } from '../helpers/script.js';
import { sandboxArgsForCommands } from '../sandbox/commands-sandbox.js';

/**
 * No API key in any output or any file under LEGATE_HOME: a full CLI scenario (children, a 401 on
 * one key whose error body echoes the key, `--json`, `tasks list/show/collect --json`, refusals,
 * `doctor`), with keys from config `${VAR}` and from the environment fallback (`OPENAI_API_KEY`).
 * Files (state.db and its -wal / -shm) are also read WHILE the run is in flight, before SQLite
 * folds the WAL back in on close.
 */

const KEYS = {
  A: 'sk-proj-SECRETaaaa1111aaaa1111',
  B: 'sk-proj-SECRETbbbb2222bbbb2222',
  ROUTE: 'sk-route-SECRETcccc3333cccc',
  ENV: 'sk-env-SECRETdddd4444dddd4444',
};

let servers: ScriptedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

async function server(): Promise<ScriptedServer> {
  const started = await startScriptedServer();
  servers.push(started);
  return started;
}

/** Reads every file under `home` every 50 ms until stopped; returns what was seen (file name → contents seen). */
function snapshotWhileRunning(home: string): { stop(): Map<string, Buffer[]> } {
  const seen = new Map<string, Buffer[]>();
  const take = (): void => {
    for (const file of filesUnder(home)) {
      try {
        seen.set(file, [...(seen.get(file) ?? []), readFileSync(file)]);
      } catch {
        // Removed between the listing and the read (the -wal on close).
      }
    }
  };
  const timer = setInterval(take, 50);
  return {
    stop() {
      clearInterval(timer);
      take();
      return seen;
    },
  };
}

/** Every place a raw key could show up: the outputs, and each file's contents as seen. */
function expectNoKey(outputs: CliResult[], files: Map<string, Buffer[]>, keys: string[]): void {
  for (const [index, output] of outputs.entries()) {
    for (const key of keys) {
      expect(output.stdout, `stdout of command #${index}`).not.toContain(key);
      expect(output.stderr, `stderr of command #${index}`).not.toContain(key);
    }
  }
  for (const [file, contents] of files) {
    for (const content of contents) {
      for (const key of keys) {
        expect(content.includes(key), `${key.slice(0, 8)}… in ${file}`).toBe(false);
        expect(content.includes(Buffer.from(key, 'utf16le')), `${key.slice(0, 8)}… (UTF-16) in ${file}`).toBe(false);
      }
    }
  }
}

/** Runs `legate tasks list/show/collect/steer/cancel --json` for every task, and doctor. */
async function inspectEverything(args: { home: string; work: string; env: Record<string, string>; config: string[] }): Promise<CliResult[]> {
  const cli = (extra: string[]): Promise<CliResult> => runCli([...args.config, ...extra], { home: args.home, cwd: args.work, env: args.env });
  const listed = await cli(['tasks', 'list', '--all', '--json']);
  expect(listed.code, listed.stderr).toBe(0);
  const ids = (JSON.parse(listed.stdout).tasks as { task_id: string }[]).map((task) => task.task_id);
  expect(ids.length).toBeGreaterThan(0);
  const outputs = [listed, await cli(['tasks', 'list'])];
  for (const id of ids) {
    // Refusals (steer, cancel: the task has ended) name the task, never a key.
    const commands = [
      ['tasks', 'show', id, '--json'],
      ['tasks', 'show', id],
      ['tasks', 'collect', id, '--json'],
      ['tasks', 'steer', id, 'too late', '--json'],
      ['tasks', 'cancel', id, '--json'],
    ];
    outputs.push(...(await Promise.all(commands.map(cli))));
  }
  const doctor = await cli(['doctor']);
  expect(doctor.stdout).toMatch(/keys: sk-\.\.\.\w{4}/);
  outputs.push(doctor);
  return outputs;
}

describe('secrets: no raw API key in any output or file under LEGATE_HOME', () => {
  it('keys from config ${VAR}: children, a 401 that echoes the key, rotation, a failed route, every inspection command', async () => {
    const main = await server();
    const bad = await server();
    main.enqueue(
      {
        match: isParent,
        reply: {
          toolCalls: [
            { name: 'delegate_task_async', arguments: { goal: 'SECRET-OK child' } },
            { name: 'delegate_task_async', arguments: { goal: 'SECRET-FAIL child', route: 'bad' } },
          ],
        },
      },
      {
        match: isParent,
        reply: (request) => ({ toolCalls: taskIds(request).map((id) => ({ name: 'collect_task', arguments: { task_id: id, timeout: 30 } })) }),
      },
      { match: isParent, reply: { text: 'SECRETS-DONE' } },
      // Key A is refused and the provider's error echoes it whole; the child goes on with key B.
      {
        match: childWith('SECRET-OK'),
        reply: { status: 401, errorBody: { error: { message: `Incorrect API key provided: ${KEYS.A}.`, type: 'invalid_request_error' } } },
      },
      { match: childWith('SECRET-OK'), reply: { toolCalls: [{ name: 'terminal', arguments: { command: 'echo working' } }] } },
      { match: childWith('SECRET-OK'), reply: { delayMs: 600, text: 'ok child done' } },
    );
    bad.enqueue({ match: childWith('SECRET-FAIL'), reply: { status: 401, errorBody: { error: { message: `Incorrect API key provided: ${KEYS.ROUTE}` } } } });
    const { home, work, configFile } = tempHome({
      model: { provider: 'openai', name: 'parent-model', base_url: main.openaiBaseUrl, api_keys: ['${SECRET_A}', '${SECRET_B}'], max_retries: 1 },
      delegation: { routes: { bad: { base_url: bad.openaiBaseUrl, api_key: '${SECRET_ROUTE}' } } },
    });
    const env = { SECRET_A: KEYS.A, SECRET_B: KEYS.B, SECRET_ROUTE: KEYS.ROUTE };

    const snapshots = snapshotWhileRunning(home);
    const run = startCli(['--config', configFile, 'run', '--json', 'delegate and collect'], { home, cwd: work, env, input: '' });
    await until(() => existsSync(join(home, 'state.db-wal')), 10_000, 'the WAL file');
    const result = await run.done;
    const files = snapshots.stop();

    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.final).toBe('SECRETS-DONE');
    expect(Object.fromEntries((json.tasks as { goal: string; status: string }[]).map((task) => [task.goal, task.status]))).toEqual({
      'SECRET-OK child': 'completed',
      'SECRET-FAIL child': 'failed',
    });
    // The 401 did happen on key A, then key B; the failed route's error names its key masked.
    expect(
      main.requests
        .filter(childWith('SECRET-OK'))
        .map((request) => request.apiKey)
        .slice(0, 2),
    ).toEqual([KEYS.A, KEYS.B]);
    // The scan reads real data: the task's goal is there in plain text.
    expect([...files.values()].flat().some((content) => content.includes('SECRET-OK child'))).toBe(true);

    const outputs = [result, ...(await inspectEverything({ home, work, env, config: ['--config', configFile] }))];
    const failed = outputs.find((output) => output.stdout.includes('"status": "failed"') && output.stdout.includes('"error"'));
    expect(failed?.stdout).toContain(`sk-...${KEYS.ROUTE.slice(-4)}`);
    main.assertDone();
    bad.assertDone();

    for (const file of filesUnder(home)) files.set(file, [...(files.get(file) ?? []), readFileSync(file)]);
    expectNoKey(outputs, files, [KEYS.A, KEYS.B, KEYS.ROUTE]);
  });

  it('a key from the environment fallback (OPENAI_API_KEY, no config file): run with a child, every inspection command', async () => {
    const main = await server();
    main.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'ENV-CHILD' } }] } },
      { match: isParent, reply: { text: 'ENV-DONE' } },
      { match: childWith('ENV-CHILD'), reply: { toolCalls: [{ name: 'list_dir', arguments: {} }] } },
      { match: childWith('ENV-CHILD'), reply: { delayMs: 600, text: 'env child done' } },
    );
    const { home, work } = tempHome();
    const env = { OPENAI_API_KEY: KEYS.ENV, OPENAI_BASE_URL: main.openaiBaseUrl, LEGATE_MODEL: 'env-model' };

    const snapshots = snapshotWhileRunning(home);
    const result = await runCli(['run', '--json', 'delegate'], { home, cwd: work, env });
    const files = snapshots.stop();

    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ final: 'ENV-DONE', tasks: [{ goal: 'ENV-CHILD', status: 'completed' }] });
    expect(main.requests.every((request) => request.apiKey === KEYS.ENV)).toBe(true);
    main.assertDone();

    const outputs = [result, ...(await inspectEverything({ home, work, env, config: [] }))];
    expect(outputs.at(-1)!.stdout).toContain('(no config file: using the environment)');
    for (const file of filesUnder(home)) files.set(file, [...(files.get(file) ?? []), readFileSync(file)]);
    expect([...files.keys()].some((file) => file.endsWith('state.db'))).toBe(true);
    expectNoKey(outputs, files, [KEYS.ENV]);
  });

  it('a child that runs `env` in the terminal sees the key masked: not in its transcript, state.db or model requests', async () => {
    const main = await server();
    main.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'ENV-DUMP' } }] } },
      { match: isParent, reply: { text: 'DUMP-DONE' } },
      { match: childWith('ENV-DUMP'), reply: { toolCalls: [{ name: 'terminal', arguments: { command: 'env | sort' } }] } },
      { match: childWith('ENV-DUMP'), reply: { text: 'dumped' } },
    );
    const { home, work } = tempHome();
    const env = { OPENAI_API_KEY: KEYS.ENV, OPENAI_BASE_URL: main.openaiBaseUrl };

    const result = await runCli(['run', ...sandboxArgsForCommands(), '--json', 'dump'], { home, cwd: work, env });

    expect(result.code, result.stderr).toBe(0);
    // `env` did run: the tool result the child's model got shows the variable, masked.
    const [dump] = lastToolResults(main.requests.filter(childWith('ENV-DUMP'))[1]!);
    expect(dump).toContain(`OPENAI_API_KEY=sk-...${KEYS.ENV.slice(-4)}`);
    expect(JSON.stringify(main.requests.map((request) => request.body))).not.toContain(KEYS.ENV);
    main.assertDone();
    const files = new Map(filesUnder(home).map((file) => [file, [readFileSync(file)]]));
    expectNoKey([result], files, [KEYS.ENV]);
  });
});
