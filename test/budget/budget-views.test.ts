import { describe, expect, it } from 'vitest';
import { recordBudgetStatus } from '../../src/budget/budget-view.js';
import { runChatCommand } from '../../src/cli/chat-commands.js';
import { noColors } from '../../src/cli/colors.js';
import { TaskDock } from '../../src/cli/tui/task-dock.js';
import { taskFixture } from '../../src/tasks/store/conformance.js';
import { MemoryTaskStore } from '../../src/tasks/store/memory-store.js';
import { storeAnswer } from '../../src/tasks/task-approvals.js';
import type { TaskService } from '../../src/tasks/task-service.js';
import { taskRow } from '../../src/ui/task-views.js';

/** Issue 27, seeing spend: the views read a task's budget and its tree's spend from its record's counters (no tree walk). */
describe('budget views from the record', () => {
  const task = taskFixture({
    id: 't_view0001',
    sessionId: 's_dock',
    status: 'running',
    budget: { tokens: 650, costUsd: 1 },
    budgetRaises: { 't_kid/1.1': { tokens: 500 } },
    spend: { tokens: 200, costUsd: 0.25 },
    usage: { inputTokens: 40, outputTokens: 10 },
  });

  it('give the limit in force (raises included), the tree spend and what is left', () => {
    expect(recordBudgetStatus(task)).toMatchObject({
      limit: { tokens: 1150, cost_usd: 1 },
      spent: { tokens: 200, cost_usd: 0.25 },
      remaining: { tokens: 950, cost_usd: 0.75 },
      raised_by: { tokens: 500 },
    });
    expect(recordBudgetStatus(taskFixture())).toBeUndefined();
  });

  it('show in the chat dock and the dashboard row', () => {
    const dock = new TaskDock('s_dock');
    dock.update(task);
    expect(dock.lines().join('\n')).toContain('budget tokens 950/1150, $0.75/$1 left');
    const row = taskRow(task, {});
    expect(row).toMatchObject({ tokens: 50, treeTokens: 200, budget: { remaining: { tokens: 950, cost_usd: 0.75 } } });
  });
});

describe('/approve in chat', () => {
  it('passes --tokens/--usd/--seconds as the raise, refuses a bad amount naming the flag, and says the budget is raised', async () => {
    const answers: unknown[] = [];
    const budgetTask = taskFixture({
      id: 't_chat0001',
      status: 'input_required',
      approval: { id: '1.1', kind: 'budget', subject: 'its tokens budget: spent 200 of 150', mode: 'workspace-write', reason: 'r', requestedAt: 1 },
    });
    const tasks = {
      answerApproval: async (_session: string, _id: string, answer: unknown) => {
        answers.push(answer);
        return budgetTask;
      },
    } as unknown as TaskService;
    const written: string[] = [];
    const context = {
      tasks,
      sessionId: 's_chat',
      write: (text: string) => written.push(text),
      waitFor: async () => undefined as never,
      leave: () => {},
      palette: noColors,
    };
    expect(await runChatCommand('/approve t_chat0001 --tokens 500 --usd 0.5', context)).toBe(true);
    expect(answers).toEqual([{ approved: true, raise: { tokens: 500, costUsd: 0.5 } }]);
    expect(written.join('')).toContain('approved t_chat0001 (request 1.1): its budget is raised and the task goes on');
    await expect(runChatCommand('/approve t_chat0001 --seconds soon', context)).rejects.toThrow('--seconds must be a positive number (got "soon")');
    await expect(runChatCommand('/approve t_chat0001 extra', context)).rejects.toThrow('usage: /approve ID [--tokens N] [--usd X] [--seconds S]');
    expect(answers).toHaveLength(1);
  });
});

describe('a raise', () => {
  it('only answers a budget request, and needs positive amounts', async () => {
    const store = new MemoryTaskStore();
    const pending = { id: '1.1', mode: 'workspace-write' as const, reason: 'r', requestedAt: 1 };
    await store.create(taskFixture({ id: 't_exec0001', status: 'input_required', approval: { ...pending, kind: 'exec', subject: 'rm -rf /tmp/x' } }));
    await store.create(taskFixture({ id: 't_budg0001', status: 'input_required', approval: { ...pending, kind: 'budget', subject: 'its tokens budget' } }));
    const exec = (await store.get('t_exec0001'))!;
    await expect(storeAnswer(store, exec, { approved: true, raise: { tokens: 5 } }, 'me')).rejects.toThrow(
      'task "t_exec0001" waits on a exec request (rm -rf /tmp/x), not a budget: --tokens, --usd and --seconds only raise a budget',
    );
    const budget = (await store.get('t_budg0001'))!;
    await expect(storeAnswer(store, budget, { approved: true, raise: { tokens: 2.5 } }, 'me')).rejects.toThrow(
      '--tokens must be a positive whole number (got 2.5)',
    );
    const answered = await storeAnswer(store, budget, { approved: true, raise: { seconds: 30 } }, 'me');
    expect(answered.approval!.answer).toMatchObject({ approved: true, raise: { seconds: 30 }, by: 'me' });
  });
});
