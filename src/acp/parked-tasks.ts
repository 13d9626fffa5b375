import type * as acp from '@agentclientprotocol/sdk';
import { errorMessage } from '../errors.js';
import type { TaskRecord } from '../tasks/task-record.js';
import type { TaskService } from '../tasks/task-service.js';
import { askEditor, type EditorApprovals, type EditorChoice } from './editor-approvals.js';

/**
 * The approval requests of one ACP session's parked background tasks (`input_required`), asked in
 * the editor: each request (task and request id) is asked once, as `session/request_permission` on
 * the task's entry (`task-<id>`), and the user's choice is stored with `TaskService.answerApproval`
 * (the process running the task resumes it). "Allow for this session" also answers later requests
 * on the same command or path at once. A request answered elsewhere (`legate tasks approve`,
 * another editor) is withdrawn from this one; a question the editor withdraws leaves the task
 * waiting.
 */
export class ParkedTaskQuestions {
  private readonly open = new Map<string, { approvalId: string; controller: AbortController }>();
  /** `task id/request id` of every request asked: each is asked once. */
  private readonly asked = new Set<string>();

  constructor(
    private readonly sessionId: string,
    private readonly tasks: TaskService,
    private readonly client: () => acp.AgentContext | undefined,
    private readonly approvals: EditorApprovals,
    private readonly send: (update: acp.SessionUpdate) => void,
    private readonly log: (line: string) => void,
  ) {}

  /** A task of the session parked (an event here, or found in the store): ask its request, once. */
  parked(task: TaskRecord): void {
    const approval = task.approval;
    if (task.status !== 'input_required' || !approval || approval.answer) return;
    const key = `${task.id}/${approval.id}`;
    if (this.asked.has(key)) return;
    this.asked.add(key);
    this.open.get(task.id)?.controller.abort();
    const controller = new AbortController();
    this.open.set(task.id, { approvalId: approval.id, controller });
    this.send({
      sessionUpdate: 'tool_call_update',
      toolCallId: `task-${task.id}`,
      status: 'pending',
      content: [{ type: 'content', content: { type: 'text', text: `waiting for approval: ${approval.reason}` } }],
    });
    void this.ask(task, controller.signal).finally(() => {
      if (this.open.get(task.id)?.controller === controller) this.open.delete(task.id);
    });
  }

  /** The session's tasks as the store has them now: ask new requests, withdraw those that no longer wait. */
  reconcile(tasks: readonly TaskRecord[]): void {
    const byId = new Map(tasks.map((task) => [task.id, task]));
    for (const [taskId, question] of this.open) {
      const task = byId.get(taskId);
      if (task?.status !== 'input_required' || task.approval?.id !== question.approvalId || task.approval.answer) question.controller.abort();
    }
    for (const task of tasks) this.parked(task);
  }

  close(): void {
    for (const question of this.open.values()) question.controller.abort();
    this.open.clear();
  }

  private async ask(task: TaskRecord, signal: AbortSignal): Promise<void> {
    const approval = task.approval!;
    let choice: EditorChoice;
    const kind = approval.kind;
    if (kind !== 'budget' && this.approvals.allows(kind, approval.subject)) {
      choice = { choice: 'allow_always' };
    } else {
      const client = this.client();
      if (!client) return;
      choice = await askEditor(
        client,
        this.sessionId,
        {
          toolCallId: `task-${task.id}`,
          // A budget request: allowing raises the budget by its amount at spawn (never "for the session": each raise is asked).
          title:
            kind === 'budget'
              ? `background task ${task.id}: ${approval.subject}; raise it and go on?`
              : `background task ${task.id}: ${kind} ${approval.subject}? (outside ${approval.mode} mode)`,
          kind: kind === 'read' ? 'read' : kind === 'write' ? 'edit' : kind === 'network' ? 'fetch' : kind === 'budget' ? 'other' : 'execute',
          subject: approval.subject,
          reason: approval.reason,
          ...(kind === 'read' || kind === 'write' ? { path: approval.subject } : {}),
        },
        signal,
      );
    }
    // Withdrawn (answered elsewhere, the task went on, the editor withdrew it): the task keeps its state.
    if (choice.choice === 'cancelled') return;
    if (choice.choice === 'allow_always' && kind !== 'budget') this.approvals.allowAlways(kind, approval.subject);
    const approved = choice.choice !== 'reject';
    try {
      await this.tasks.answerApproval(
        this.sessionId,
        task.id,
        approved ? { approved: true } : { approved: false, reason: 'rejected by the user in the editor' },
        'the editor',
      );
      this.send({
        sessionUpdate: 'tool_call_update',
        toolCallId: `task-${task.id}`,
        status: 'in_progress',
        content: [{ type: 'content', content: { type: 'text', text: `${approved ? 'approved' : 'denied'} in the editor: ${approval.subject}` } }],
      });
    } catch (error) {
      this.log(`answering the approval of task ${task.id}: ${errorMessage(error)}`);
    }
  }
}
