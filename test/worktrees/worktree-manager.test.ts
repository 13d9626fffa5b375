import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { overlappingSiblings } from '../../src/worktrees/overlap.js';
import { pruneOrphanWorktrees } from '../../src/worktrees/task-worktrees.js';
import { WorktreeManager } from '../../src/worktrees/worktree-manager.js';
import { tempDir } from '../helpers/cli.js';
import { gitRepository, setGitIdentity, sh } from './git-repo.js';

beforeAll(setGitIdentity);

/** A repository (removed when the test ends) and a LEGATE_HOME beside it. */
function repository(): { repo: string; home: string } {
  const repo = gitRepository();
  return { repo, home: join(dirname(repo), 'home') };
}

describe('WorktreeManager', () => {
  // Two children editing the same file, merged and refused through the CLI: worktree-cli.test.ts.
  it('flags siblings whose changed files overlap, with the shared files (a pure function)', () => {
    const overlaps = overlappingSiblings([
      { taskId: 't_a', changedFiles: ['shared.txt', 'a.txt'] },
      { taskId: 't_b', changedFiles: ['shared.txt'] },
      { taskId: 't_c', changedFiles: ['c.txt'] },
    ]);
    expect(overlaps.get('t_a')).toEqual([{ taskId: 't_b', files: ['shared.txt'] }]);
    expect(overlaps.get('t_b')).toEqual([{ taskId: 't_a', files: ['shared.txt'] }]);
    expect(overlaps.has('t_c')).toBe(false);
  });

  it('a child that changes nothing leaves no branch and no worktree', async () => {
    const { repo, home } = repository();
    const manager = new WorktreeManager(home);
    const created = await manager.create(repo, 't_none');
    expect(await manager.finish(created, 'Look only')).toBeUndefined();
    expect(existsSync(created.path)).toBe(false);
    expect(sh(repo, 'branch', '--list', 'legate/*')).toBe('');
  });

  it('says when the parent had uncommitted changes, which are not in the worktree', async () => {
    const { repo, home } = repository();
    writeFileSync(join(repo, 'shared.txt'), 'dirty\n');
    const created = await new WorktreeManager(home).create(repo, 't_dirty');
    expect(created.parentHadUncommittedChanges).toBe(true);
    expect(readFileSync(join(created.path, 'shared.txt'), 'utf8')).toBe('one\ntwo\nthree\n');
  });

  it('prune removes a worktree and its branch; a missing worktree is a clear error', async () => {
    const { repo, home } = repository();
    const manager = new WorktreeManager(home);
    const created = await manager.create(repo, 't_p');
    writeFileSync(join(created.path, 'new.txt'), 'x\n');
    const record = await manager.finish(created, 'Add new.txt');
    await manager.remove(repo, record!.path, record!.branch);
    expect(existsSync(record!.path)).toBe(false);
    expect(sh(repo, 'branch', '--list', 'legate/*')).toBe('');
    await expect(manager.requirePresent(record!.path)).rejects.toMatchObject({ code: 'worktree_missing' });
  });

  it('a failed child that changed nothing keeps its worktree (it may be resumed there); prune sweeps worktrees whose task is gone', async () => {
    const { repo, home } = repository();
    const manager = new WorktreeManager(home);
    const failed = await manager.create(repo, 't_failed');
    expect(await manager.finish(failed, 'Failed early', true)).toMatchObject({ branch: 'legate/t_failed', changed_files: [] });
    expect(existsSync(failed.path)).toBe(true);
    const kept = await manager.create(repo, 't_kept');
    // t_failed is no longer in the store (pruned by age); t_kept still is.
    const removed = await pruneOrphanWorktrees(manager, home, async (id) => id === 't_kept');
    expect(removed).toEqual(['legate/t_failed']);
    expect(existsSync(failed.path)).toBe(false);
    expect(existsSync(kept.path)).toBe(true);
    expect(sh(repo, 'branch', '--list', '--format=%(refname:short)', 'legate/*').trim()).toBe('legate/t_kept');
  });

  it("a nested child asking for its own worktree starts at its parent worktree's HEAD; the repository recorded is the main one", async () => {
    const { repo, home } = repository();
    const manager = new WorktreeManager(home);
    const parent = await manager.create(repo, 't_parent');
    writeFileSync(join(parent.path, 'p.txt'), 'p\n');
    sh(parent.path, 'add', '-A');
    sh(parent.path, 'commit', '-q', '-m', 'parent work');
    const nested = await manager.create(join(parent.path), 't_nested');
    expect(nested.repository).toBe(repo);
    expect(nested.base).toBe(sh(parent.path, 'rev-parse', 'HEAD').trim());
    expect(manager.worktreeContaining(join(nested.path, 'src'))).toBe(nested.path);
    expect(manager.worktreeContaining(repo)).toBeUndefined();
  });

  it('commits as legate <legate@localhost> where git has no identity configured', async () => {
    const { repo, home } = repository();
    const manager = new WorktreeManager(home);
    const created = await manager.create(repo, 't_noident');
    writeFileSync(join(created.path, 'x.txt'), 'x\n');
    // No identity anywhere, and git told not to guess one from the host name.
    const names = ['GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL', 'EMAIL', 'GIT_CONFIG_GLOBAL', 'GIT_CONFIG_NOSYSTEM'];
    const saved = names.map((name) => [name, process.env[name]] as const);
    const global = join(home, 'gitconfig');
    writeFileSync(global, '[user]\n\tuseConfigOnly = true\n');
    for (const name of names) delete process.env[name];
    Object.assign(process.env, { GIT_CONFIG_GLOBAL: global, GIT_CONFIG_NOSYSTEM: '1' });
    try {
      expect(await manager.finish(created, 'Add x')).toMatchObject({ changed_files: ['x.txt'] });
    } finally {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    expect(sh(repo, 'log', '-1', '--format=%an <%ae>', 'legate/t_noident').trim()).toBe('legate <legate@localhost>');
  });

  it('not a repository: a clear error at spawn naming the directory', async () => {
    const dir = tempDir('legate-nogit-');
    await expect(new WorktreeManager(join(dir, 'home')).create(dir, 't_x')).rejects.toMatchObject({
      code: 'not_a_repository',
      message: expect.stringContaining(dir),
    });
  });
});
