import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import { type RecordedRequest, type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { WorktreeManager } from '../../src/worktrees/worktree-manager.js';
import { scriptedConfig, tempHome } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { afterRequest, childWith, isChild, isParent, taskIds } from '../helpers/script.js';
import { taskFixture } from '../tasks/store-conformance.js';
import { dashboardOn } from '../ui/ui-harness.js';
import { gitRepository, setGitIdentity, sh } from './git-repo.js';

/** `legate tasks diff|merge|prune` and resume of worktree children, in process (issue 28). */

beforeAll(setGitIdentity);

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const writes = (path: string, content: string) => ({ toolCalls: [{ name: 'write_file', arguments: { path, content } }] });

/** A LEGATE_HOME on the scripted server and a git repository to work in; `cli` runs legate there. */
function setup(scripted: ScriptedServer, extra: Record<string, unknown> = {}) {
  const { home, configFile } = tempHome(scriptedConfig(scripted.openaiBaseUrl, extra));
  const repo = gitRepository();
  return { home, repo, cli: (args: string[]) => runMain(['--config', configFile, ...args], { home, cwd: repo }) };
}

describe('legate tasks diff, merge and prune', () => {
  it('two children rewrite the same file: diff shows each branch, one merges cleanly, the other is refused naming the file, the tree stays clean; prune removes worktrees and branches', async () => {
    server = await startScriptedServer();
    server.enqueue(
      {
        match: isParent,
        reply: {
          toolCalls: [
            {
              name: 'delegate_task',
              arguments: {
                tasks: [
                  { goal: 'CHILD-A rewrites line two', isolation: 'worktree' },
                  { goal: 'CHILD-B rewrites line two', isolation: 'worktree' },
                ],
              },
            },
          ],
        },
      },
      { match: childWith('CHILD-A'), reply: writes('shared.txt', 'one\nA\nthree\n') },
      { match: childWith('CHILD-B'), reply: writes('shared.txt', 'one\nB\nthree\n') },
      { match: childWith('CHILD-A'), reply: { text: 'wrote A' } },
      { match: childWith('CHILD-B'), reply: { text: 'wrote B' } },
      { match: isParent, reply: { text: 'all done' } },
    );
    const { home, repo, cli } = setup(server);
    const run = await cli(['run', '--json', 'split the work']);
    expect(run.code, run.stderr).toBe(0);
    const [a, b] = (JSON.parse(run.stdout).tasks as { task_id: string; goal: string }[]).sort((x, y) => x.goal.localeCompare(y.goal));
    expect([a!.goal, b!.goal]).toEqual(['CHILD-A rewrites line two', 'CHILD-B rewrites line two']);
    const main = sh(repo, 'rev-parse', 'HEAD');

    const diff = await cli(['tasks', 'diff', a!.task_id]);
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toContain(`${a!.task_id}: legate/${a!.task_id}, 1 file changed, +1 -1`);
    expect(diff.stdout).toContain('-two\n+A');
    const diffJson = JSON.parse((await cli(['tasks', 'diff', b!.task_id, '--json'])).stdout);
    expect(diffJson.worktree).toMatchObject({ branch: `legate/${b!.task_id}`, changed_files: ['shared.txt'], base: main.trim() });
    expect(diffJson.diff).toContain('+B');
    // The parent's tree was never touched.
    expect(readFileSync(join(repo, 'shared.txt'), 'utf8')).toBe('one\ntwo\nthree\n');

    const merged = await cli(['tasks', 'merge', a!.task_id]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout).toContain(`merged legate/${a!.task_id} into main: 1 file (shared.txt), +1 -1`);
    expect(readFileSync(join(repo, 'shared.txt'), 'utf8')).toBe('one\nA\nthree\n');
    const afterMerge = sh(repo, 'rev-parse', 'HEAD');

    const refused = await cli(['tasks', 'merge', b!.task_id]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`merge_conflict: merging legate/${b!.task_id} into main is a merge conflict in "shared.txt"; nothing was changed`);
    expect(sh(repo, 'rev-parse', 'HEAD')).toBe(afterMerge);
    expect(sh(repo, 'status', '--porcelain')).toBe('');
    expect(readFileSync(join(repo, 'shared.txt'), 'utf8')).toBe('one\nA\nthree\n');

    const pruned = await cli(['tasks', 'prune', '--json']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(JSON.parse(pruned.stdout)).toEqual({ pruned: 2, branches: expect.arrayContaining([`legate/${a!.task_id}`, `legate/${b!.task_id}`]) });
    expect(sh(repo, 'branch', '--list', 'legate/*')).toBe('');
    expect(sh(repo, 'worktree', 'list', '--porcelain')).not.toContain('worktrees');
    expect(existsSync(join(home, 'worktrees', a!.task_id))).toBe(false);
    expect(existsSync(join(home, 'worktrees', b!.task_id))).toBe(false);
    server.assertDone();
  });

  it('a child whose process stopped mid-step is resumed in its worktree: its earlier write is still there, both are committed on its branch', async () => {
    server = await startScriptedServer();
    const hung = (request: RecordedRequest): boolean => request.stepLabel === 'child-2-hangs';
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'RESUME-GOAL', isolation: 'worktree' } }] } },
      { match: isParent, reply: afterRequest(server, hung, { text: 'left it running' }) },
      { label: 'child-1', match: childWith('RESUME-GOAL'), reply: writes('first.txt', 'before the stop\n') },
      { label: 'child-2-hangs', match: childWith('RESUME-GOAL'), reply: { hang: true } },
      { label: 'child-3-resumed', match: childWith('RESUME-GOAL'), reply: writes('second.txt', 'after the resume\n') },
      { label: 'child-4', match: childWith('RESUME-GOAL'), reply: { text: 'RESUMED-SUMMARY' } },
    );
    const { home, repo, cli } = setup(server);
    const run = await cli(['run', '--no-wait', '--json', 'go']);
    expect(run.code, run.stderr).toBe(0);
    const id = (JSON.parse(run.stdout).tasks as { task_id: string }[])[0]!.task_id;
    // Listed in the repository's directory, although it works in its worktree.
    expect(JSON.parse((await cli(['tasks', 'list', '--json'])).stdout).tasks).toEqual([expect.objectContaining({ task_id: id, status: 'interrupted' })]);
    const path = join(home, 'worktrees', id);
    // Stopped mid-way: nothing committed yet, the write is in the worktree, not in the parent's tree.
    expect(readFileSync(join(path, 'first.txt'), 'utf8')).toBe('before the stop\n');
    expect(sh(repo, 'rev-parse', `legate/${id}`)).toBe(sh(repo, 'rev-parse', 'main'));
    const stopped = await cli(['tasks', 'diff', id]);
    expect(stopped.stdout).toContain(`task "${id}" is interrupted: uncommitted work in its worktree (new, not diffed: first.txt)`);

    expect((await cli(['tasks', 'show', id])).stdout).toContain(`worktree: ${path} on legate/${id} (from `);

    const resumed = await cli(['tasks', 'resume', id]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('RESUMED-SUMMARY');
    expect(server.requests.filter(isChild).map((request) => request.stepLabel)).toEqual(['child-1', 'child-2-hangs', 'child-3-resumed', 'child-4']);
    expect(sh(repo, 'show', `legate/${id}:first.txt`)).toBe('before the stop\n');
    expect(sh(repo, 'show', `legate/${id}:second.txt`)).toBe('after the resume\n');
    expect(sh(repo, 'log', '-1', '--format=%s', `legate/${id}`).trim()).toBe('RESUME-GOAL');
    expect(existsSync(join(repo, 'first.txt')) || existsSync(join(repo, 'second.txt'))).toBe(false);
    expect(sh(path, 'status', '--porcelain')).toBe('');
    server.assertDone();
  });

  it('a process without the repository at the same path (a worker on another machine) fails the task at once, saying so', async () => {
    server = await startScriptedServer();
    const { home, repo, cli } = setup(server);
    const gone = join(home, 'worktrees', 't_elsewhere1');
    const store = SqliteTaskStore.open(join(home, 'state.db'));
    const worktree = { repository: '/nowhere/repo', branch: 'legate/t_elsewhere1', path: gone, base: 'f'.repeat(40), parentHadUncommittedChanges: false };
    await store.create(taskFixture({ id: 't_elsewhere1', status: 'interrupted', goal: 'ELSEWHERE', cwd: repo, model: 'parent-model', worktree }));
    await store.create(taskFixture({ id: 't_plain0001', status: 'completed', endedAt: Date.now(), cwd: repo }));
    await store.close();
    const plain = await cli(['tasks', 'merge', 't_plain0001']);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain('no_worktree: task "t_plain0001" has no worktree: it worked in its parent\'s tree (isolation "none")');

    const resumed = await cli(['tasks', 'resume', 't_elsewhere1']);
    expect(resumed.code).toBe(1);
    expect(resumed.stdout).toContain(
      `t_elsewhere1 failed: worktree_missing: the task's worktree "${gone}" is not on this machine; a worker needs the same repository at the same path`,
    );
    // No model call was made.
    expect(server.requests).toHaveLength(0);
    const diff = await cli(['tasks', 'diff', 't_elsewhere1']);
    expect(diff.code).toBe(1);
    expect(diff.stderr).toContain('worktree_missing: task "t_elsewhere1" worked in the repository "/nowhere/repo", which is not on this machine');
    expect(existsSync(join(repo, '.git'))).toBe(true);
  });

  it('a child cancelled mid-way (cancel_task) keeps its partial result: what it wrote is committed on its branch, the parent tree untouched', async () => {
    server = await startScriptedServer();
    const hung = (request: RecordedRequest): boolean => request.stepLabel === 'child-2-hangs';
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'CANCEL-GOAL', isolation: 'worktree' } }] } },
      {
        match: isParent,
        reply: async (request: RecordedRequest) => {
          await afterRequest(server!, hung, { text: '' })();
          return { toolCalls: [{ name: 'cancel_task', arguments: { task_id: taskIds(request)[0] } }] };
        },
      },
      { match: isParent, reply: { text: 'cancelled it' } },
      { label: 'child-1', match: childWith('CANCEL-GOAL'), reply: writes('partial.txt', 'half of the work\n') },
      { label: 'child-2-hangs', match: childWith('CANCEL-GOAL'), reply: { hang: true } },
    );
    const { repo, cli } = setup(server);
    const run = await cli(['run', '--json', 'go']);
    expect(run.code, run.stderr).toBe(0);
    const [task] = JSON.parse((await cli(['tasks', 'list', '--all', '--json'])).stdout).tasks as { task_id: string; status: string }[];
    expect(task).toMatchObject({ status: 'cancelled' });
    expect(sh(repo, 'show', `legate/${task!.task_id}:partial.txt`)).toBe('half of the work\n');
    expect(existsSync(join(repo, 'partial.txt'))).toBe(false);
    expect(sh(repo, 'status', '--porcelain')).toBe('');
  });

  it('a cancelled child: diff shows the work it had not committed; prune removes its worktree and branch', async () => {
    server = await startScriptedServer();
    const { home, repo, cli } = setup(server);
    const created = await new WorktreeManager(home).create(repo, 't_cancel001');
    writeFileSync(join(created.path, 'shared.txt'), 'one\nHALF-DONE\nthree\n');
    const store = SqliteTaskStore.open(join(home, 'state.db'));
    await store.create(taskFixture({ id: 't_cancel001', status: 'cancelled', endedAt: Date.now(), cwd: repo, worktree: created }));
    await store.close();

    const diff = await cli(['tasks', 'diff', 't_cancel001']);
    expect(diff.stdout).toContain('task "t_cancel001" is cancelled: uncommitted work in its worktree');
    expect(diff.stdout).toContain('+HALF-DONE');
    const pruned = await cli(['tasks', 'prune']);
    expect(pruned.stdout).toBe('pruned 1 ended task, and 1 worktree branch ("legate/t_cancel001")\n');
    expect(existsSync(created.path)).toBe(false);
    expect(sh(repo, 'branch', '--list', 'legate/*')).toBe('');
  });

  it("the dashboard's task page data carries the task's diff; a task without a worktree has none", async () => {
    const { dashboard, store, dir } = await dashboardOn();
    const repo = gitRepository();
    const manager = new WorktreeManager(dir);
    const created = await manager.create(repo, 't_uidiff01');
    writeFileSync(join(created.path, 'shared.txt'), 'one\nUI\nthree\n');
    await manager.finish(created, 'Change line two');
    await store.create(taskFixture({ id: 't_uidiff01', status: 'completed', endedAt: Date.now(), cwd: created.path, worktree: created }));
    await store.create(taskFixture({ id: 't_uiplain1', status: 'completed', endedAt: Date.now() }));
    const headers = { 'x-legate-token': dashboard.token };

    const withDiff = await (await fetch(`${dashboard.origin}/api/tasks/t_uidiff01/diff`, { headers })).json();
    expect(withDiff.worktree).toMatchObject({ branch: 'legate/t_uidiff01', changed_files: ['shared.txt'], insertions: 1, deletions: 1 });
    expect(withDiff.diff).toContain('-two\n+UI');
    expect(await (await fetch(`${dashboard.origin}/api/tasks/t_uiplain1/diff`, { headers })).json()).toEqual({
      task_id: 't_uiplain1',
      worktree: null,
      diff: '',
    });
    expect((await fetch(`${dashboard.origin}/api/tasks/t_nothere1/diff`, { headers })).status).toBe(404);
  });
});
