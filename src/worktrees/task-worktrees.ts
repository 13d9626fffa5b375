import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LegateError } from '../errors.js';
import { isTerminal } from '../tasks/status.js';
import type { TaskRecord, TaskWorktree } from '../tasks/task-record.js';
import { git, runGit } from './git.js';
import { branchFor, countNumstat, type WorktreeManager, type WorktreeRecord } from './worktree-manager.js';

/** What `legate tasks diff` and the dashboard show of a task's worktree. */
export interface TaskDiff {
  readonly task_id: string;
  /** Its branch against its base; `removed` says why there is no branch (it changed nothing, or was pruned). */
  readonly worktree: WorktreeRecord & { removed?: string };
  /** The unified diff (empty when there is nothing to show). */
  readonly diff: string;
  /** Set when the worktree holds uncommitted work (running, stopped or cancelled): the diff is that work against the base. */
  readonly note?: string;
}

/** What `legate tasks merge` did. */
export interface TaskMerge {
  readonly task_id: string;
  readonly branch: string;
  /** The branch checked out in the directory the merge ran in. */
  readonly into: string;
  readonly changed_files: string[];
  readonly insertions: number;
  readonly deletions: number;
}

const removedNote = 'no branch: the task changed nothing (its worktree and branch were removed), or it was pruned';

/** The task's worktree, or `no_worktree` naming the task; `worktree_missing` when its repository is not on this machine. */
function worktreeOf(task: TaskRecord): TaskWorktree {
  const worktree = task.worktree;
  if (!worktree) {
    throw new LegateError('no_worktree', `task "${task.id}" has no worktree: it worked in its parent's tree (isolation "none")`, { taskId: task.id });
  }
  if (!existsSync(worktree.repository)) {
    throw new LegateError('worktree_missing', `task "${task.id}" worked in the repository "${worktree.repository}", which is not on this machine`, {
      taskId: task.id,
    });
  }
  return worktree;
}

async function branchExists(worktree: TaskWorktree): Promise<boolean> {
  return (await runGit(worktree.repository, ['rev-parse', '--verify', '--quiet', `refs/heads/${worktree.branch}`])).code === 0;
}

/**
 * A task's changes: its branch against its base. When its worktree holds uncommitted work (a task
 * still running or stopped, or one cancelled before it could commit), that work against its base
 * instead, with a note; files it created and has not committed are listed, not diffed. Throws
 * `no_worktree` for a task without one.
 */
export async function taskDiff(manager: WorktreeManager, task: TaskRecord): Promise<TaskDiff> {
  const worktree = worktreeOf(task);
  const empty = { branch: worktree.branch, path: worktree.path, base: worktree.base, changed_files: [], insertions: 0, deletions: 0 };
  if (!(await branchExists(worktree))) return { task_id: task.id, worktree: { ...empty, removed: removedNote }, diff: '' };
  const status = existsSync(join(worktree.path, '.git')) ? await git(worktree.path, ['status', '--porcelain']) : '';
  if (status.trim() === '') {
    const record = await manager.record(worktree.repository, worktree.branch, worktree.path, worktree.base);
    return { task_id: task.id, worktree: record, diff: await manager.diff(worktree.repository, record) };
  }
  const [diff, numstat] = await Promise.all([git(worktree.path, ['diff', worktree.base]), git(worktree.path, ['diff', '--numstat', worktree.base])]);
  const counted = countNumstat(numstat);
  const created = status
    .split('\n')
    .filter((line) => line.startsWith('?? '))
    .map((line) => line.slice(3));
  const note = `task "${task.id}" is ${task.status}: uncommitted work in its worktree${created.length > 0 ? ` (new, not diffed: ${created.join(', ')})` : ''}`;
  return { task_id: task.id, worktree: { ...empty, ...counted, changed_files: [...counted.changed_files, ...created] }, diff, note };
}

/**
 * Merges an ended task's branch into the branch checked out in `cwd` after a dry run
 * (`WorktreeManager.merge`): `merge_conflict` names the files and touches nothing.
 */
export async function mergeTask(manager: WorktreeManager, cwd: string, task: TaskRecord): Promise<TaskMerge> {
  const worktree = worktreeOf(task);
  if (!isTerminal(task.status)) {
    throw new LegateError('task_not_ended', `task "${task.id}" is ${task.status}; only an ended task's branch can be merged`, { taskId: task.id });
  }
  const record = (await branchExists(worktree)) ? await manager.record(worktree.repository, worktree.branch, worktree.path, worktree.base) : undefined;
  if (!record || record.changed_files.length === 0) {
    throw new LegateError('no_worktree', `task "${task.id}" has nothing to merge: ${removedNote}`, { taskId: task.id });
  }
  const into = await manager.merge(cwd, record);
  return { task_id: task.id, branch: record.branch, into, changed_files: record.changed_files, insertions: record.insertions, deletions: record.deletions };
}

/** Removes the worktrees and branches of `tasks` (ended ones, being pruned); returns the branches removed. */
export async function pruneTaskWorktrees(manager: WorktreeManager, tasks: readonly TaskRecord[]): Promise<string[]> {
  const removed: string[] = [];
  for (const task of tasks) {
    const worktree = task.worktree;
    if (!worktree || !isTerminal(task.status)) continue;
    const had = await branchExists(worktree);
    await manager.remove(worktree.repository, worktree.path, worktree.branch);
    if (had) removed.push(worktree.branch);
  }
  return removed;
}

/**
 * Removes the worktrees under `<home>/worktrees/` whose task is no longer in the store (pruned by
 * age, `tasks.prune_after_days`), with their branches; returns the branches removed.
 */
export async function pruneOrphanWorktrees(manager: WorktreeManager, home: string, isTask: (id: string) => Promise<boolean>): Promise<string[]> {
  const root = join(home, 'worktrees');
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const removed: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !/^t_[A-Za-z0-9_-]+$/.test(entry.name) || (await isTask(entry.name))) continue;
    const path = join(root, entry.name);
    const common = await runGit(path, ['rev-parse', '--path-format=absolute', '--git-common-dir']);
    // A worktree's common dir is its repository's `.git`; a directory git does not know is just removed.
    const repository = common.code === 0 ? dirname(common.stdout.trim()) : path;
    await manager.remove(repository, path, branchFor(entry.name));
    removed.push(branchFor(entry.name));
  }
  return removed;
}
