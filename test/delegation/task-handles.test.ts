import { describe, expect, it } from 'vitest';
import { taskHandlesNote } from '../../src/delegation/task-handles.js';
import { taskFixture } from '../tasks/store-conformance.js';

describe("a parent's note of its tasks (after each hand-off)", () => {
  it('names every task: open or unseen ones with status and goal, seen ones by id; none started, no note', () => {
    expect(taskHandlesNote([])).toBeUndefined();
    const note = taskHandlesNote([
      taskFixture({ id: 't_00000003', createdAt: 3, status: 'completed', reported: true, goal: 'seen one' }),
      taskFixture({ id: 't_00000001', createdAt: 1, status: 'running', goal: 'survey\nthe parser' }),
      taskFixture({ id: 't_00000002', createdAt: 2, status: 'failed', reported: false, goal: 'unseen failure' }),
    ]);
    expect(note).toBe(
      [
        'Tasks you started (3), as they stood at this compaction; check_task, collect_task and list_tasks give their current status:',
        '- t_00000001 [running] survey the parser',
        '- t_00000002 [failed] unseen failure',
        'Ended, result already seen: t_00000003 (completed)',
      ].join('\n'),
    );
  });
});
