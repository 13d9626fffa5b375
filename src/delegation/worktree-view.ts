import type { TaskRecord } from '../tasks/task-record.js';
import { runGit } from '../worktrees/git.js';
import { overlappingSiblings } from '../worktrees/overlap.js';
import type { DelegationSession } from './session.js';

/**
 * The `worktree` block of each task that has one (isolation "worktree"), read from git: its branch,
 * path, base, changed files, insertions and deletions (committed when the child ended), and the
 * siblings among `tasks` whose changed files overlap its own. Tasks without a worktree are absent.
 */
export async function worktreeViews(tasks: readonly TaskRecord[], session: DelegationSession): Promise<Map<string, Record<string, unknown>>> {
  const views = new Map<string, Record<string, unknown>>();
  const manager = session.worktrees;
  if (!manager) return views;
  const changed: { taskId: string; changedFiles: string[] }[] = [];
  for (const task of tasks) {
    const worktree = task.worktree;
    if (!worktree) continue;
    const note = worktree.parentHadUncommittedChanges ? { note: "your uncommitted changes were not in the child's worktree" } : {};
    const exists = await runGit(worktree.repository, ['rev-parse', '--verify', '--quiet', `refs/heads/${worktree.branch}`]);
    if (exists.code !== 0) {
      views.set(task.id, {
        worktree: {
          branch: worktree.branch,
          path: worktree.path,
          base: worktree.base,
          changed_files: [],
          removed: 'no changes: the worktree and branch were removed',
          ...note,
        },
      });
      continue;
    }
    const record = await manager.record(worktree.repository, worktree.branch, worktree.path, worktree.base);
    changed.push({ taskId: task.id, changedFiles: record.changed_files });
    views.set(task.id, { worktree: { ...record, ...note } });
  }
  for (const [taskId, overlaps] of overlappingSiblings(changed)) {
    const view = views.get(taskId)!;
    view.overlaps = overlaps.map((overlap) => ({ task_id: overlap.taskId, files: overlap.files }));
  }
  return views;
}
