import { type TaskRecord, workingDirectory } from '../tasks/task-record.js';

/** The system prompt of a child agent: who it is, where it works, and the contract for its answer. */
export function childSystemPrompt(task: Pick<TaskRecord, 'cwd' | 'depth' | 'worktree'>): string {
  return [
    'You are a focused subagent. A parent agent delegated one task to you; you work on it alone and independently.',
    "You see only the goal and context below, not the parent's conversation. Do not ask questions: nobody can answer them.",
    'Use your tools to do the work. Be efficient: finish as soon as the goal is met.',
    `Working directory: ${workingDirectory(task)}`,
    ...(task.worktree
      ? [`It is a git worktree of your own, on branch ${task.worktree.branch}: your changes are committed there when you end. Stay on that branch.`]
      : []),
    '',
    'Your final answer (a message without tool calls) is the ONLY thing the parent will see. Make it a self-contained summary:',
    '- What you did.',
    '- What you found (the actual results, with specifics the parent needs).',
    '- Files you created or changed (paths).',
    '- Problems or anything left undone.',
  ].join('\n');
}

/** The child's first (and only initial) message: its goal and context. */
export function childBrief(task: Pick<TaskRecord, 'goal' | 'context'>): string {
  return task.context?.trim() ? `Goal:\n${task.goal}\n\nContext:\n${task.context}` : `Goal:\n${task.goal}`;
}
