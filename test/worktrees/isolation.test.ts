import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Session } from '../../src/session.js';
import { operator } from '../../src/tasks/caller.js';
import type { RecordedRequest } from '../../src/testing/scripted-server.js';
import { executeToolCall } from '../../src/tools/execute.js';
import { childWith, isChild, isParent, lastToolResults } from '../helpers/script.js';
import { runtimeOnScripted, useScriptedServer } from '../helpers/scripted.js';
import { gitRepository, setGitIdentity, sh } from './git-repo.js';

beforeAll(setGitIdentity);

/** A child's request whose brief (its first user message: goal and context) contains `needle`. */
const briefWith =
  (needle: string) =>
  (request: RecordedRequest): boolean =>
    isChild(request) && JSON.stringify((request.body.messages as { role: string }[]).find((message) => message.role === 'user')).includes(needle);

const writes = (content: string) => ({ toolCalls: [{ name: 'write_file', arguments: { path: 'shared.txt', content } }] });

describe('isolation "worktree" (issue 28)', () => {
  it('two children rewrite the same file in worktrees of their own: each change is on legate/<task_id>, the parent tree is untouched, the overlap is flagged', async () => {
    const server = await useScriptedServer();
    const repo = gitRepository();
    const runtime = runtimeOnScripted(server, 'openai', {}, { cwd: repo });
    server.enqueue(
      {
        match: isParent,
        reply: {
          toolCalls: [
            {
              name: 'delegate_task',
              arguments: {
                tasks: [
                  { goal: 'Rewrite line two as CHILD-A', isolation: 'worktree' },
                  { goal: 'Rewrite line two as CHILD-B', isolation: 'worktree' },
                ],
              },
            },
          ],
        },
      },
      { match: childWith('CHILD-A'), reply: writes('one\nA\nthree\n') },
      { match: childWith('CHILD-B'), reply: writes('one\nB\nthree\n') },
      { match: childWith('CHILD-A'), reply: { text: 'wrote A' } },
      { match: childWith('CHILD-B'), reply: { text: 'wrote B' } },
      { match: isParent, reply: { text: 'both done' } },
    );
    const session = new Session(runtime);

    const result = await session.turn('split the work');

    expect(result).toMatchObject({ status: 'completed', final: 'both done' });
    const [delegation] = lastToolResults(server.requests.filter(isParent).at(-1)!);
    const [a, b] = delegation.results;
    expect(a).toMatchObject({ status: 'completed', summary: 'wrote A' });
    expect(a.worktree).toMatchObject({
      branch: `legate/${a.task_id}`,
      path: expect.stringContaining(join('worktrees', a.task_id)),
      base: sh(repo, 'rev-parse', 'main').trim(),
      changed_files: ['shared.txt'],
      insertions: 1,
      deletions: 1,
    });
    expect(b.worktree).toMatchObject({ branch: `legate/${b.task_id}`, changed_files: ['shared.txt'] });
    expect(a.overlaps).toEqual([{ task_id: b.task_id, files: ['shared.txt'] }]);
    expect(b.overlaps).toEqual([{ task_id: a.task_id, files: ['shared.txt'] }]);
    // Each child's write is committed on its branch, not in the parent's checkout.
    expect(sh(repo, 'show', `legate/${a.task_id}:shared.txt`)).toBe('one\nA\nthree\n');
    expect(sh(repo, 'show', `legate/${b.task_id}:shared.txt`)).toBe('one\nB\nthree\n');
    expect(sh(repo, 'log', '-1', '--format=%s', `legate/${a.task_id}`).trim()).toBe('Rewrite line two as CHILD-A');
    expect(readFileSync(join(repo, 'shared.txt'), 'utf8')).toBe('one\ntwo\nthree\n');
    expect(sh(repo, 'status', '--porcelain')).toBe('');
    expect(sh(repo, 'rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('main');
    // The child's working directory was its worktree: its own path, outside the parent's tree.
    expect(a.worktree.path.startsWith(repo)).toBe(false);
    expect(existsSync(join(a.worktree.path, 'shared.txt'))).toBe(true);
    server.assertDone();
  });

  it('an async child in a worktree: check_task and list_tasks carry its worktree; a child that changes nothing leaves no branch', async () => {
    const server = await useScriptedServer();
    const repo = gitRepository();
    const runtime = runtimeOnScripted(server, 'openai', { delegation: { isolation: 'worktree' } }, { cwd: repo });
    server.enqueue(
      { match: childWith('WRITER'), reply: { toolCalls: [{ name: 'write_file', arguments: { path: 'new.txt', content: 'fresh\n' } }] } },
      { match: childWith('WRITER'), reply: { text: 'wrote new.txt' } },
      { match: childWith('READER'), reply: { text: 'looked only' } },
    );
    const session = new Session(runtime);
    const tools = new Map(runtime.toolsFor({ sessionId: session.id, depth: 0, toolsets: runtime.agentToolsets }).map((tool) => [tool.name, tool]));
    const call = async (name: string, args: unknown): Promise<any> => {
      const result = await executeToolCall(
        tools,
        { id: `call_${name}`, name, arguments: JSON.stringify(args) },
        { cwd: repo, io: runtime.io, signal: new AbortController().signal },
      );
      expect(result.isError).toBe(false);
      return JSON.parse(result.content);
    };
    // delegation.isolation: worktree is the default for calls that do not say.
    const writer = await call('delegate_task_async', { goal: 'WRITER: add new.txt' });
    const reader = await call('delegate_task_async', { goal: 'READER: read only' });
    expect(writer.worktree.branch).toBe(`legate/${writer.task_id}`);
    await runtime.tasks.waitForSession(session.id);

    const checked = await call('check_task', { task_id: writer.task_id });
    expect(checked.worktree).toMatchObject({ branch: `legate/${writer.task_id}`, changed_files: ['new.txt'], insertions: 1, deletions: 0 });
    const listed = await call('list_tasks', {});
    const row = listed.tasks.find((entry: { task_id: string }) => entry.task_id === writer.task_id);
    expect(row.worktree.changed_files).toEqual(['new.txt']);
    const readerRow = listed.tasks.find((entry: { task_id: string }) => entry.task_id === reader.task_id);
    expect(readerRow.worktree).toMatchObject({ changed_files: [], removed: expect.stringContaining('no changes') });
    expect(sh(repo, 'branch', '--list', `legate/${reader.task_id}`)).toBe('');
    expect(existsSync(join(repo, 'new.txt'))).toBe(false);
    server.assertDone();
  });

  it("a route's isolation is its children's default; a nested child works in its parent's worktree unless it asks for its own", async () => {
    const server = await useScriptedServer();
    const repo = gitRepository();
    const config = { delegation: { max_spawn_depth: 2, routes: { isolated: { isolation: 'worktree' } } } };
    const runtime = runtimeOnScripted(server, 'openai', config, { cwd: repo });
    const writesFile = (path: string) => ({ toolCalls: [{ name: 'write_file', arguments: { path, content: `${path}\n` } }] });
    const grandchildren = [{ goal: 'GRAND-INHERIT: add inherited.txt' }, { goal: 'GRAND-OWN: add own.txt', isolation: 'worktree' }];
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'NEST-CHILD: split it', route: 'isolated' } }] } },
      { match: briefWith('NEST-CHILD'), reply: { toolCalls: [{ name: 'delegate_task', arguments: { tasks: grandchildren } }] } },
      { match: briefWith('GRAND-INHERIT'), reply: writesFile('inherited.txt') },
      { match: briefWith('GRAND-OWN'), reply: writesFile('own.txt') },
      { match: briefWith('GRAND-INHERIT'), reply: { text: 'wrote inherited.txt' } },
      { match: briefWith('GRAND-OWN'), reply: { text: 'wrote own.txt' } },
      { match: briefWith('NEST-CHILD'), reply: { text: 'nest done' } },
      { match: isParent, reply: { text: 'top done' } },
    );

    expect(await new Session(runtime).turn('go')).toMatchObject({ status: 'completed', final: 'top done' });

    const [child] = lastToolResults(server.requests.filter(isParent).at(-1)!)[0].results;
    // The route made the child's worktree; the grandchild without isolation wrote there, so its file is on the child's branch.
    expect(child.worktree).toMatchObject({ branch: `legate/${child.task_id}`, changed_files: ['inherited.txt'] });
    const [inherit, own] = lastToolResults(server.requests.filter(briefWith('NEST-CHILD')).at(-1)!)[0].results;
    expect(inherit.worktree).toBeUndefined();
    expect(own.worktree).toMatchObject({ branch: `legate/${own.task_id}`, changed_files: ['own.txt'] });
    expect(server.requests.find(briefWith('GRAND-INHERIT'))!.text).toContain(`Working directory: ${child.worktree.path}`);
    expect(sh(repo, 'show', `legate/${own.task_id}:own.txt`)).toBe('own.txt\n');
    expect(sh(repo, 'ls-tree', '--name-only', `legate/${own.task_id}`)).not.toContain('inherited.txt');
    expect(sh(repo, 'ls-tree', '--name-only', `legate/${child.task_id}`)).not.toContain('own.txt');
    expect(sh(repo, 'status', '--porcelain')).toBe('');
    expect(existsSync(join(repo, 'inherited.txt')) || existsSync(join(repo, 'own.txt'))).toBe(false);
    server.assertDone();
  });

  it('not a git repository: delegate_task with isolation "worktree" is refused at spawn, naming the directory', async () => {
    const server = await useScriptedServer();
    const dir = mkdtempSync(join(tmpdir(), 'legate-not-repo-'));
    try {
      const runtime = runtimeOnScripted(server, 'openai', {}, { cwd: dir });
      server.enqueue(
        { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'anything', isolation: 'worktree' } }] } },
        { match: isParent, reply: { text: 'refused' } },
      );
      const result = await new Session(runtime).turn('try');
      expect(result.final).toBe('refused');
      const [refusal] = lastToolResults(server.requests.at(-1)!);
      expect(JSON.stringify(refusal)).toContain(`not_a_repository: \\"${dir}\\" is not inside a git repository`);
      expect(await runtime.tasks.list(operator)).toEqual([]);
      server.assertDone();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
