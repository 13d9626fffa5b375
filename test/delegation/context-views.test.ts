import { describe, expect, it } from 'vitest';
import { TaskDock } from '../../src/cli/tui/task-dock.js';
import { checkView } from '../../src/delegation/views.js';
import { outputLinesFor } from '../../src/tasks/output-lines.js';
import { taskFixture } from '../../src/tasks/store/conformance.js';
import { taskDetail } from '../../src/ui/task-views.js';

/** Issue 26: how full a child's context is, and how often it was compacted, wherever a task is shown. */
describe('context in use, shown', () => {
  const task = taskFixture({
    id: 't_ctxview1',
    status: 'running',
    depth: 1,
    sessionId: 's_dock',
    startedAt: Date.now(),
    contextUse: { tokens: 122_000, window: 200_000, compactions: 2 },
  });

  it('check_task', () => {
    expect(checkView(task, [], []).context_use).toBe('context 61% of 200k, compacted 2×');
    expect(checkView(taskFixture({ id: 't_nocontext' }), [], []).context_use).toBeUndefined();
  });

  it('the chat dock', () => {
    const dock = new TaskDock('s_dock');
    dock.update(task);
    expect(dock.lines().join('\n')).toContain('(context 61% of 200k, compacted 2×)');
  });

  it('the dashboard task page', () => {
    const detail = taskDetail(task, { output: [], steers: [] }, { messages: [] }, {});
    expect(detail.task.context).toBe('context 61% of 200k, compacted 2×');
  });

  it('the output tail says when and how the context was compacted', () => {
    expect(outputLinesFor({ type: 'context.compacted', how: 'summarise', tokensBefore: 2900, tokensAfter: 800, count: 3 })).toEqual([
      '⇲ context compacted (summarise): 2900 → 800 tokens, 3× in this run',
    ]);
  });
});
