import { describe, expect, it } from 'vitest';
import { checkView, listView, listViewLimit } from '../../src/delegation/views.js';
import { capOutput } from '../../src/tools/output-cap.js';
import { taskFixture } from '../tasks/store-conformance.js';

describe('list_tasks view', () => {
  it('shows the newest tasks up to the limit and says how many there are, so 1000 tasks stay valid JSON under the output cap', () => {
    const tasks = Array.from({ length: 1000 }, (_, index) => taskFixture({ id: `t_${String(index).padStart(8, '0')}`, goal: 'g'.repeat(200) }));
    const view = listView(tasks) as { tasks: { task_id: string }[]; total: number; truncated: boolean };
    expect(view.tasks).toHaveLength(listViewLimit);
    expect(view.tasks[0]!.task_id).toBe('t_00000000');
    expect(view).toMatchObject({ total: 1000, truncated: true });
    const text = JSON.stringify(view);
    expect(capOutput(text)).toBe(text);
    expect(listView(tasks.slice(0, 3))).toEqual({ tasks: expect.any(Array) });
  });
});

describe('check_task view', () => {
  it('names the current tool of a running task only: a cancelled, failed or interrupted one is in no tool', () => {
    expect(checkView(taskFixture({ id: 't_run', status: 'running', currentTool: 'terminal' }), [], [])).toMatchObject({ current_tool: 'terminal' });
    for (const status of ['cancelled', 'failed', 'interrupted', 'completed'] as const) {
      const view = checkView(taskFixture({ id: `t_${status}`, status, currentTool: 'terminal' }), [], []);
      expect(view).toMatchObject({ task_id: `t_${status}`, status });
      expect(view).not.toHaveProperty('current_tool');
    }
  });
});
