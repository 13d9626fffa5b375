import { recordBudgetStatus, recordedSpend } from '../budget/budget-view.js';
import { contextLine } from '../delegation/context-view.js';
import { cacheHitShare, estimateCost, type Prices } from '../delegation/usage-view.js';
import { elapsedSeconds } from '../delegation/views.js';
import { reasoningText } from '../provider/reasoning-text.js';
import { type Message, totalTokens } from '../provider/types.js';
import { isTerminal } from '../tasks/status.js';
import { currentToolOf, type SessionRecord, type SteerRecord, type TaskRecord } from '../tasks/task-record.js';
import type { ApprovalView, ConversationEntry, SessionRow, SteerView, TaskDetail, TaskRow } from './view-types.js';

/** A task as a row of the tasks table. */
export function taskRow(task: TaskRecord, prices: Prices, now = Date.now()): TaskRow {
  const price = prices[task.model];
  return {
    id: task.id,
    status: task.status,
    goal: task.goal,
    model: task.route ? `${task.route}: ${task.model}` : task.model,
    sessionId: task.sessionId,
    cwd: task.cwd,
    // Its process, while one holds it (running, waiting for an approval) or last held it (interrupted).
    ...(task.owner && !isTerminal(task.status) && task.status !== 'queued' ? { owner: task.owner } : {}),
    createdAt: task.createdAt,
    elapsedSeconds: elapsedSeconds(task, now),
    apiCalls: task.apiCalls,
    tokens: totalTokens(task.usage),
    ...(price ? { costUsd: estimateCost(task.usage, price) } : {}),
    ...(currentToolOf(task) ? { currentTool: currentToolOf(task) } : {}),
    outputLines: task.outputLines,
    treeTokens: recordedSpend(task, now).tokens,
    ...(task.budget ? { budget: recordBudgetStatus(task, recordedSpend(task, now))! } : {}),
  };
}

/** What changes when a row should be sent again (elapsed time ticks on the page itself). */
export function rowFingerprint(task: TaskRecord): string {
  return [
    task.status,
    task.apiCalls,
    task.outputLines,
    task.currentTool ?? '',
    totalTokens(task.usage),
    task.owner ?? '',
    approvalOf(task)?.id ?? '',
    task.spend?.tokens ?? '',
    Object.keys(task.budgetRaises ?? {}).length,
  ].join('|');
}

/** The pending approval of a task waiting for one (`input_required`). */
function approvalOf(task: TaskRecord): ApprovalView | undefined {
  return task.approval;
}

export function taskDetail(
  task: TaskRecord,
  trail: { output: string[]; steers: SteerRecord[] },
  conversation: { messages: Message[] } | { error: string },
  prices: Prices,
): TaskDetail {
  const approval = approvalOf(task);
  return {
    task: {
      ...taskRow(task, prices),
      ...(task.route ? { route: task.route } : {}),
      depth: task.depth,
      mode: task.mode,
      ...(task.sandbox ? { sandbox: task.sandbox } : {}),
      ...(task.startedAt !== undefined ? { startedAt: task.startedAt } : {}),
      ...(task.endedAt !== undefined ? { endedAt: task.endedAt } : {}),
      ...(task.exitReason ? { exitReason: task.exitReason } : {}),
      ...(task.cancelledBy ? { cancelledBy: task.cancelledBy } : {}),
      ...(task.summary !== undefined ? { summary: task.summary } : {}),
      ...(task.error ? { error: task.error } : {}),
      ...(task.lastActivity ? { lastActivity: task.lastActivity } : {}),
      ...(contextLine(task.contextUse) ? { context: contextLine(task.contextUse)! } : {}),
      usage: {
        inputTokens: task.usage.inputTokens,
        outputTokens: task.usage.outputTokens,
        cacheReadTokens: task.usage.cacheReadTokens ?? 0,
        cacheWriteTokens: task.usage.cacheWriteTokens ?? 0,
        reasoningTokens: task.usage.reasoningTokens ?? 0,
        cacheHitShare: cacheHitShare(task.usage),
      },
      ...(approval ? { approval } : {}),
    },
    output: trail.output,
    steers: trail.steers.map(steerView),
    ...('error' in conversation ? { conversation: [], conversationError: conversation.error } : { conversation: conversationEntries(conversation.messages) }),
  };
}

function steerView(steer: SteerRecord): SteerView {
  return {
    id: steer.id,
    message: steer.message,
    state: steer.state,
    createdAt: steer.createdAt,
    ...(steer.settledAt !== undefined ? { settledAt: steer.settledAt } : {}),
  };
}

/** A conversation as messages, tool calls and tool results, in order. */
export function conversationEntries(messages: Message[]): ConversationEntry[] {
  const entries: ConversationEntry[] = [];
  for (const message of messages) {
    if (message.role === 'tool') {
      entries.push({ kind: 'tool_result', toolCallId: message.toolCallId, name: message.name, text: message.content, isError: message.isError === true });
      continue;
    }
    if (message.role === 'assistant') {
      const thinking = reasoningText(message);
      if (thinking) entries.push({ kind: 'thinking', text: thinking });
    }
    if (message.content) entries.push({ kind: 'message', role: message.role, text: message.content });
    if (message.role === 'assistant')
      for (const call of message.toolCalls ?? []) entries.push({ kind: 'tool_call', id: call.id, name: call.name, arguments: call.arguments });
  }
  return entries;
}

export function sessionRow(session: SessionRecord): SessionRow {
  const first = session.messages.find((message) => message.role === 'user')?.content ?? '';
  return {
    id: session.id,
    cwd: session.cwd,
    createdAt: session.createdAt,
    updatedAt: session.updatedAt,
    messages: session.messages.length,
    title: first.length > 120 ? `${first.slice(0, 119)}…` : first,
  };
}
