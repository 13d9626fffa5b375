import type { Command } from 'commander';
import { LegateError, quoted } from '../errors.js';
import { isTerminal } from '../tasks/status.js';
import type { TaskRecord } from '../tasks/task-record.js';
import { operator, type TaskService } from '../tasks/task-service.js';
import { mergeTask, pruneOrphanWorktrees, pruneTaskWorktrees, taskDiff } from '../worktrees/task-worktrees.js';
import type { WorktreeManager } from '../worktrees/worktree-manager.js';

interface WorktreeDesk {
  tasks: TaskService;
  worktrees: WorktreeManager;
  cwd: string;
}

type Print = (value: unknown, json: boolean | undefined, text: string) => void;

/**
 * `legate tasks diff ID` and `legate tasks merge ID`: a worktree child's changes (issue 28).
 * Merging is a human's command, never a model tool.
 */
export function registerTasksWorktree<Desk extends WorktreeDesk>(
  tasks: Command,
  action: (body: (desk: Desk, id: string, options: { json?: boolean }) => Promise<number>) => Parameters<Command['action']>[0],
  print: Print,
  taskId: (id: string) => string,
): void {
  tasks
    .command('diff')
    .argument('<id>', 'a task id', taskId)
    .description('the changes of a task that worked in its own git worktree (isolation "worktree"): its branch against the commit it started at')
    .option('--json', 'print JSON')
    .action(
      action(async (desk, id, options) => {
        const view = await taskDiff(desk.worktrees, await desk.tasks.get(operator, id));
        const worktree = view.worktree;
        const head = worktree.removed
          ? `${id}: ${worktree.removed}`
          : `${id}: ${worktree.branch}, ${files(worktree.changed_files.length)} changed, +${worktree.insertions} -${worktree.deletions}`;
        print(view, options.json, [head, ...(view.note ? [view.note] : []), ...(view.diff ? ['', view.diff.trimEnd()] : [])].join('\n'));
        return 0;
      }),
    );

  tasks
    .command('merge')
    .argument('<id>', 'a task id', taskId)
    .description(
      "merge an ended task's branch (legate/ID) into the branch checked out here, after a dry run: on a merge conflict nothing is touched and the conflicting files are named (exit 1)",
    )
    .option('--json', 'print JSON')
    .action(
      action(async (desk, id, options) => {
        const merged = await mergeTask(desk.worktrees, desk.cwd, await desk.tasks.get(operator, id));
        const text = `merged ${merged.branch} into ${merged.into}: ${files(merged.changed_files.length)} (${merged.changed_files.join(', ')}), +${merged.insertions} -${merged.deletions}`;
        print({ ok: true, ...merged }, options.json, text);
        return 0;
      }),
    );
}

/**
 * Part of `legate tasks prune`: the worktrees and branches of the ended tasks about to be pruned
 * (those that ended before `endedBefore`), and any left by tasks already gone from the store.
 * Returns the branches removed.
 */
export async function pruneWorktreesOf(desk: WorktreeDesk, endedBefore: number): Promise<string[]> {
  const ended = await desk.tasks.list(operator, { status: ['completed', 'failed', 'cancelled'], limit: 1_000_000 });
  const pruned = ended.filter((task: TaskRecord) => task.worktree && isTerminal(task.status) && (task.endedAt ?? 0) < endedBefore);
  const removed = await pruneTaskWorktrees(desk.worktrees, pruned);
  const orphans = await pruneOrphanWorktrees(desk.worktrees, desk.worktrees.home, (id) =>
    desk.tasks.get(operator, id).then(
      () => true,
      (error: unknown) => {
        if (error instanceof LegateError && error.code === 'task_not_found') return false;
        throw error;
      },
    ),
  );
  return [...removed, ...orphans];
}

/** For `tasks show`: where a worktree child works and how to see its changes (no git call). */
export function worktreeLines(task: TaskRecord): string[] {
  const worktree = task.worktree;
  if (!worktree) return [];
  return [
    `worktree: ${worktree.path} on ${worktree.branch} (from ${worktree.base.slice(0, 12)}): legate tasks diff ${task.id}, legate tasks merge ${task.id}`,
    ...(worktree.parentHadUncommittedChanges ? ["  the parent's uncommitted changes were not in it"] : []),
  ];
}

/** `, and 2 worktree branches (legate/t_1, legate/t_2)` for the prune line, or nothing. */
export function prunedBranchesText(branches: readonly string[]): string {
  if (branches.length === 0) return '';
  return `, and ${branches.length} worktree ${branches.length === 1 ? 'branch' : 'branches'} (${branches.map((branch) => quoted(branch)).join(', ')})`;
}

function files(count: number): string {
  return `${count} file${count === 1 ? '' : 's'}`;
}
