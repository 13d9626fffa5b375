import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { LegateError } from '../errors.js';
import { git, runGit } from './git.js';

/** A child's worktree as its result carries it (issue 28). */
export interface WorktreeRecord {
  readonly branch: string;
  readonly path: string;
  /** The commit the worktree was created at (the parent's HEAD at spawn). */
  readonly base: string;
  readonly changed_files: string[];
  readonly insertions: number;
  readonly deletions: number;
}

/** What `create` made: where the child works, and whether the parent's uncommitted changes are missing from it. */
export interface CreatedWorktree {
  readonly repository: string;
  readonly branch: string;
  readonly path: string;
  readonly base: string;
  /** True when the parent's tree had uncommitted changes, which are not in the worktree. */
  readonly parentHadUncommittedChanges: boolean;
}

/** The branch a task's worktree lives on. */
export function branchFor(taskId: string): string {
  return `legate/${taskId}`;
}

/**
 * Git worktrees for writing children, through the `git` CLI. Worktrees live under
 * `<home>/worktrees/<task_id>`; each is on branch `legate/<task_id>`, created at the parent's HEAD.
 */
export class WorktreeManager {
  /** `home`: the LEGATE_HOME; worktrees live under its `worktrees/`. */
  constructor(readonly home: string) {}

  /** The repository's top-level directory; `not_a_repository` when `cwd` is not inside one. */
  async repositoryOf(cwd: string): Promise<string> {
    return (await this.locate(cwd)).top;
  }

  /**
   * Where `cwd` is, in one `git rev-parse`: its top-level directory, the main working tree of its
   * repository, and HEAD (undefined before the first commit). `not_a_repository` outside one.
   */
  private async locate(cwd: string): Promise<{ top: string; repository: string; head: string | undefined }> {
    const out = await runGit(cwd, ['rev-parse', '--show-toplevel', '--path-format=absolute', '--git-common-dir', 'HEAD']);
    const [top, common, head] = out.stdout.split('\n');
    if (!top || !common) {
      throw new LegateError('not_a_repository', `"${cwd}" is not inside a git repository; isolation "worktree" needs one`, { cwd });
    }
    // A non-bare repository's common dir is its main working tree's `.git`.
    const repository = basename(common) === '.git' ? dirname(common) : await mainWorktreeOf(top);
    return { top, repository, head: out.code === 0 ? head : undefined };
  }

  /**
   * The worktree under `<home>/worktrees/` that `cwd` lies in (a child's, inherited by its own
   * children that ask for no worktree of their own), or undefined.
   */
  worktreeContaining(cwd: string): string | undefined {
    const inside = relative(join(this.home, 'worktrees'), cwd);
    if (inside === '' || inside.startsWith('..') || inside.startsWith(sep)) return undefined;
    return join(this.home, 'worktrees', inside.split(sep)[0]!);
  }

  /**
   * `git worktree add` of the repository containing `parentCwd`, at its HEAD, on `legate/<taskId>`.
   * From inside another worktree (a nested child asking for its own), at that worktree's HEAD; the
   * repository recorded is always the main working tree, which outlives the worktrees.
   */
  async create(parentCwd: string, taskId: string): Promise<CreatedWorktree> {
    const { top, repository, head: base } = await this.locate(parentCwd);
    if (!base) {
      throw new LegateError('not_a_repository', `"${top}" has no commit yet (HEAD); isolation "worktree" needs one`, { cwd: parentCwd });
    }
    const branch = branchFor(taskId);
    const path = join(this.home, 'worktrees', taskId);
    const [status] = await Promise.all([git(top, ['status', '--porcelain']), git(top, ['worktree', 'add', '-q', '-b', branch, path, base])]);
    return { repository, branch, path, base, parentHadUncommittedChanges: status.trim() !== '' };
  }

  /**
   * When the child ends: commits its changes on its branch (message from the goal) and returns the
   * record; with no changes, removes the worktree and branch and returns undefined, unless
   * `keepEmpty` (a failed child, which may be resumed in it: `legate tasks prune` removes it).
   */
  async finish(created: CreatedWorktree, goal: string, keepEmpty = false): Promise<WorktreeRecord | undefined> {
    await this.requirePresent(created.path);
    await git(created.path, ['add', '-A']);
    const staged = await runGit(created.path, ['diff', '--cached', '--quiet']);
    if (staged.code !== 0) {
      const message = goal.trim().split('\n')[0]?.slice(0, 72) || `legate task ${created.branch}`;
      await commit(created.path, message);
    }
    const record = await this.record(created.repository, created.branch, created.path, created.base);
    if (record.changed_files.length === 0 && !keepEmpty) {
      await this.remove(created.repository, created.path, created.branch);
      return undefined;
    }
    return record;
  }

  /** The record of a branch against its base: changed files, insertions and deletions. */
  async record(repository: string, branch: string, path: string, base: string): Promise<WorktreeRecord> {
    const numstat = await git(repository, ['diff', '--numstat', `${base}..${branch}`]);
    return { branch, path, base, ...countNumstat(numstat) };
  }

  /** The diff of a task's branch against its base (`legate tasks diff`). */
  diff(repository: string, record: WorktreeRecord): Promise<string> {
    return git(repository, ['diff', `${record.base}..${record.branch}`]);
  }

  /**
   * Merges a task's branch into the branch checked out in `cwd`, after a dry run with
   * `git merge-tree --write-tree`. On a conflict nothing is touched and `merge_conflict` names the
   * files. Returns the branch merged into.
   */
  async merge(cwd: string, record: WorktreeRecord): Promise<string> {
    const repository = await this.repositoryOf(cwd);
    const target = await runGit(repository, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
    if (target.code !== 0) {
      throw new LegateError('invalid_arguments', `"${repository}" has no branch checked out (detached HEAD); check out the branch to merge into`, {
        cwd,
      });
    }
    const known = await runGit(repository, ['rev-parse', '--verify', '--quiet', `refs/heads/${record.branch}`]);
    if (known.code !== 0) {
      throw new LegateError('worktree_missing', `branch "${record.branch}" is not in the repository at "${repository}"; run this in the task's repository`, {
        branch: record.branch,
      });
    }
    const dry = await runGit(repository, ['merge-tree', '--write-tree', '--name-only', 'HEAD', record.branch]);
    if (dry.code === 1) {
      const files = conflictingFiles(dry.stdout);
      throw new LegateError(
        'merge_conflict',
        `merging ${record.branch} into ${target.stdout.trim()} is a merge conflict in ${files.map((f) => `"${f}"`).join(', ')}; nothing was changed`,
        { branch: record.branch, files },
      );
    }
    if (dry.code === 129) {
      throw new LegateError('git_missing', `git 2.38 or newer is needed: the dry run uses "git merge-tree --write-tree" (${dry.stderr.trim().split('\n')[0]})`);
    }
    if (dry.code !== 0) throw new Error(`git merge-tree failed in "${repository}": ${dry.stderr.trim()}`);
    await git(repository, ['merge', '-q', '--no-edit', '--no-ff', '-m', `Merge ${record.branch}`, record.branch]);
    return target.stdout.trim();
  }

  /** Removes a task's worktree directory and branch (`legate tasks prune`); absent ones are fine. */
  async remove(repository: string, path: string, branch: string): Promise<void> {
    const removed = await runGit(repository, ['worktree', 'remove', '--force', path]);
    if (removed.code !== 0) {
      // Not a worktree git knows (its directory was deleted, or git never made it): drop what is left.
      await rm(path, { recursive: true, force: true });
      await runGit(repository, ['worktree', 'prune']);
    }
    await runGit(repository, ['branch', '-D', branch]);
  }

  /** A resumed task continues in its worktree: `worktree_missing` when it is not at its path. */
  async requirePresent(path: string): Promise<void> {
    // A linked worktree has a `.git` file; checked on the file system, not with one more git process.
    if (!existsSync(join(path, '.git'))) {
      throw new LegateError(
        'worktree_missing',
        `the task's worktree "${path}" is not on this machine; a worker needs the same repository at the same path (see "Worktree children on workers" in the README)`,
        { path },
      );
    }
  }
}

/** `git diff --numstat` as changed files, insertions and deletions. */
export function countNumstat(numstat: string): { changed_files: string[]; insertions: number; deletions: number } {
  const changed_files: string[] = [];
  let insertions = 0;
  let deletions = 0;
  for (const line of numstat.split('\n')) {
    if (!line) continue;
    const [added, removed, ...file] = line.split('\t');
    changed_files.push(file.join('\t'));
    insertions += Number(added) || 0;
    deletions += Number(removed) || 0;
  }
  return { changed_files, insertions, deletions };
}

/** The identity of a child's commit where git has none configured (a fresh worker, a container). */
const fallbackIdentity = ['-c', 'user.name=legate', '-c', 'user.email=legate@localhost'];

/**
 * `git commit` of what is staged in `path`; when it fails because no identity is configured
 * (`user.email` unset), once more as `legate <legate@localhost>`.
 */
async function commit(path: string, message: string): Promise<void> {
  const args = ['commit', '-q', '--no-verify', '-m', message];
  const first = await runGit(path, args);
  if (first.code === 0) return;
  const email = await runGit(path, ['config', 'user.email']);
  if (email.code === 0 && email.stdout.trim() !== '') throw new Error(`git commit failed in "${path}": ${first.stderr.trim() || first.stdout.trim()}`);
  await git(path, [...fallbackIdentity, ...args]);
}

/** The main working tree of the repository whose (possibly linked) worktree is `top`. */
async function mainWorktreeOf(top: string): Promise<string> {
  const list = await git(top, ['worktree', 'list', '--porcelain']);
  const first = /^worktree (.+)$/m.exec(list);
  return first?.[1] ?? top;
}

/** The file names `git merge-tree --write-tree --name-only` lists after the tree id on a conflict. */
function conflictingFiles(stdout: string): string[] {
  const [, ...rest] = stdout.split('\n');
  const files: string[] = [];
  for (const line of rest) {
    if (line === '') break;
    if (!files.includes(line)) files.push(line);
  }
  return files;
}
