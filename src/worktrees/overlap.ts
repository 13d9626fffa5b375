/** One finished sibling's changed files, as recorded in its result's `worktree`. */
export interface ChangedFilesOf {
  readonly taskId: string;
  readonly changedFiles: readonly string[];
}

/**
 * For each task, the siblings whose changed files overlap its own, with the shared files.
 * A pure function: tasks without overlaps are absent from the map.
 */
export function overlappingSiblings(siblings: readonly ChangedFilesOf[]): Map<string, { taskId: string; files: string[] }[]> {
  const result = new Map<string, { taskId: string; files: string[] }[]>();
  for (const a of siblings) {
    for (const b of siblings) {
      if (a.taskId === b.taskId) continue;
      const theirs = new Set(b.changedFiles);
      const files = a.changedFiles.filter((file) => theirs.has(file));
      if (files.length === 0) continue;
      const list = result.get(a.taskId) ?? [];
      list.push({ taskId: b.taskId, files });
      result.set(a.taskId, list);
    }
  }
  return result;
}
