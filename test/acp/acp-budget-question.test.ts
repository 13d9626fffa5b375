import type * as acp from '@agentclientprotocol/sdk';
import { describe, expect, it } from 'vitest';
import { EditorApprovals } from '../../src/acp/editor-approvals.js';
import { ParkedTaskQuestions } from '../../src/acp/parked-tasks.js';
import { taskFixture } from '../../src/tasks/store/conformance.js';
import type { TaskService } from '../../src/tasks/task-service.js';
import { until } from '../helpers/cli.js';

/** Issue 27: a task parked on a budget is asked in the editor; "allow" raises it (by its amount at spawn) and is never remembered for the session. */
describe('a budget request in an ACP editor', () => {
  it('is asked as a raise; allowing answers approved; "allow for the session" is not kept for the next one', async () => {
    const asked: { title: string }[] = [];
    const client = {
      request: async (_method: string, params: { toolCall: { title: string } }) => {
        asked.push({ title: params.toolCall.title });
        return { outcome: { outcome: 'selected', optionId: 'allow_always' } };
      },
    } as unknown as acp.AgentContext;
    const answers: unknown[] = [];
    const tasks = {
      answerApproval: async (_session: string, id: string, answer: unknown, by: string) => {
        answers.push({ id, answer, by });
        return taskFixture({ id });
      },
    } as unknown as TaskService;
    const approvals = new EditorApprovals(() => client, 's_acp', '/work');
    const questions = new ParkedTaskQuestions(
      's_acp',
      tasks,
      () => client,
      approvals,
      () => {},
      () => {},
    );
    const approval = {
      kind: 'budget' as const,
      subject: 'its tokens budget: spent 200 of 150',
      mode: 'workspace-write' as const,
      reason: 'task "t_acpb0001" spent 200 tokens of its tokens budget of 150 tokens',
      requestedAt: 1,
    };
    questions.parked(taskFixture({ id: 't_acpb0001', sessionId: 's_acp', status: 'input_required', approval: { ...approval, id: '1.1' } }));
    await until(() => answers.length === 1, 5_000, 'the first answer');
    expect(asked[0]!.title).toBe('background task t_acpb0001: its tokens budget: spent 200 of 150; raise it and go on?');
    expect(answers[0]).toEqual({ id: 't_acpb0001', answer: { approved: true }, by: 'the editor' });
    // The next budget request of the same task is asked again, not allowed from memory.
    questions.parked(taskFixture({ id: 't_acpb0001', sessionId: 's_acp', status: 'input_required', approval: { ...approval, id: '1.2' } }));
    await until(() => answers.length === 2, 5_000, 'the second answer');
    expect(asked).toHaveLength(2);
    expect(approvals.allows('exec', approval.subject)).toBe(false);
  });
});
