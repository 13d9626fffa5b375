import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { type RunningCli, scriptedConfig, startCli, tempHome, until } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { childWith, isChild, isParent } from '../helpers/script.js';
import { gitRepository, sh } from './git-repo.js';

/** Issue 28: a worktree child whose process is killed (SIGKILL) mid-step resumes in its worktree. */

let server: ScriptedServer | undefined;
let running: RunningCli | undefined;
afterEach(async () => {
  running?.kill('SIGKILL');
  running = undefined;
  await server?.close();
  server = undefined;
});

const writes = (path: string, content: string) => ({ toolCalls: [{ name: 'write_file', arguments: { path, content } }] });
const identity = {
  GIT_AUTHOR_NAME: 'legate test',
  GIT_AUTHOR_EMAIL: 'test@legate.invalid',
  GIT_COMMITTER_NAME: 'legate test',
  GIT_COMMITTER_EMAIL: 'test@legate.invalid',
};

describe('a worktree child across a crash', () => {
  it('SIGKILL mid-step: interrupted, resumed by another process in the same worktree; its writes from before and after are committed on its branch; the parent tree untouched', async () => {
    server = await startScriptedServer();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'CRASH-WT-GOAL', isolation: 'worktree' } }] } },
      { match: isParent, reply: { hang: true } },
      { label: 'child-1', match: childWith('CRASH-WT-GOAL'), reply: writes('before.txt', 'written before the crash\n') },
      { label: 'child-2-hangs', match: childWith('CRASH-WT-GOAL'), reply: { hang: true } },
      { label: 'child-3-resumed', match: childWith('CRASH-WT-GOAL'), reply: writes('after.txt', 'written after the resume\n') },
      { label: 'child-4', match: childWith('CRASH-WT-GOAL'), reply: { text: 'CRASH-WT-SUMMARY' } },
    );
    const { home, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl));
    const repo = gitRepository();
    const cli = (args: string[]) => runMain(['--config', configFile, ...args], { home, cwd: repo, env: identity });

    running = startCli(['--config', configFile, 'run', 'go'], { home, cwd: repo, env: identity });
    await until(() => server!.requests.some((request) => request.stepLabel === 'child-2-hangs'), 15_000, 'the child to be mid-step');
    running.kill('SIGKILL');
    await running.done;

    const listed = JSON.parse((await cli(['tasks', 'list', '--all', '--json'])).stdout).tasks as { task_id: string; status: string }[];
    expect(listed).toEqual([expect.objectContaining({ status: 'interrupted' })]);
    const id = listed[0]!.task_id;
    const path = join(home, 'worktrees', id);
    expect(readFileSync(join(path, 'before.txt'), 'utf8')).toBe('written before the crash\n');

    const resumed = await cli(['tasks', 'resume', id]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('CRASH-WT-SUMMARY');
    expect(server.requests.filter(isChild).map((request) => request.stepLabel)).toEqual(['child-1', 'child-2-hangs', 'child-3-resumed', 'child-4']);
    expect(sh(repo, 'show', `legate/${id}:before.txt`)).toBe('written before the crash\n');
    expect(sh(repo, 'show', `legate/${id}:after.txt`)).toBe('written after the resume\n');
    expect(existsSync(join(repo, 'before.txt')) || existsSync(join(repo, 'after.txt'))).toBe(false);
    expect(sh(repo, 'status', '--porcelain')).toBe('');
  });
});
