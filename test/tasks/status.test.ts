import { describe, expect, it } from 'vitest';
import { assertTransition, canTransition, isTerminal, taskStatuses } from '../../src/tasks/status.js';

describe('task state machine', () => {
  it('allows exactly the documented moves', () => {
    const legal = taskStatuses.flatMap((from) => taskStatuses.filter((to) => canTransition(from, to)).map((to) => `${from}->${to}`));
    expect(legal.sort()).toEqual(
      [
        'queued->running',
        'queued->cancelled',
        'running->completed',
        'running->failed',
        'running->cancelled',
        'running->interrupted',
        'running->input_required',
        'input_required->running',
        'input_required->cancelled',
        'input_required->interrupted',
        'interrupted->running',
        'interrupted->cancelled',
        'interrupted->failed',
        // An operator's resume of a failed task (legate tasks resume) reopens it from its last checkpoint.
        'failed->interrupted',
      ].sort(),
    );
  });

  it('terminal states are completed, failed and cancelled', () => {
    expect(taskStatuses.filter(isTerminal)).toEqual(['completed', 'failed', 'cancelled']);
  });

  it('refuses an illegal move naming the task and both states', () => {
    expect(() => assertTransition('t_1', 'completed', 'running')).toThrow('task "t_1" cannot go from completed to running');
    expect(() => assertTransition('t_2', 'input_required', 'completed')).toThrow('task "t_2" cannot go from input_required to completed');
  });
});
