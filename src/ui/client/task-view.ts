import type { ApprovalView, TaskDetail, TaskDiffView } from '../view-types.js';
import { getJson, postJson } from './api.js';
import { conversationList } from './conversation.js';
import { badge, button, el, link, notice, replace } from './dom.js';
import { clock, count, seconds, usd } from './format.js';
import { onTask } from './live.js';
import { budgetLeft } from './tasks-view.js';

const open = new Set(['queued', 'running', 'interrupted', 'input_required']);

/** `#/task/ID`: one task, live: facts, actions, pending approval, summary or error, output, steering, conversation. */
export function taskView(root: Element, id: string): () => void {
  const outcome = el('div', { id: 'notice' });
  const content = el('div');
  const steerText = el('textarea', { id: 'steer-text', placeholder: 'a message for its next model call' });
  const denyReason = el('input', { id: 'deny-reason', placeholder: 'reason (for deny)', size: '30' });
  // A budget request: raise by these (empty: by the budget's own amount), as `legate tasks approve --tokens …`.
  const raiseTokens = el('input', { id: 'raise-tokens', placeholder: 'tokens (raise by)', size: '12' });
  const raiseUsd = el('input', { id: 'raise-usd', placeholder: 'usd (raise by)', size: '10' });
  const raiseSeconds = el('input', { id: 'raise-seconds', placeholder: 'seconds (raise by)', size: '10' });
  const raiseInputs = [raiseTokens, raiseUsd, raiseSeconds];
  const raiseBody = (): Record<string, string> => ({ tokens: raiseTokens.value.trim(), usd: raiseUsd.value.trim(), seconds: raiseSeconds.value.trim() });
  let reload: ReturnType<typeof setTimeout> | undefined;
  let busy = false;

  const act = async (what: string, path: string, body: unknown, done: (result: Record<string, unknown>) => string): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const result = await postJson<Record<string, unknown>>(`/api/tasks/${encodeURIComponent(id)}/${path}`, body);
      notice(outcome, true, done(result));
      if (what === 'steer') steerText.value = '';
    } catch (error) {
      notice(outcome, false, `${what} refused: ${(error as Error).message}`);
    } finally {
      busy = false;
      await load();
    }
  };

  const render = (detail: TaskDetail, changes: TaskDiffView | undefined): void => {
    const task = detail.task;
    const isOpen = open.has(task.status);
    const facts: [string, string | Node][] = [
      ['status', badge(task.status)],
      ['goal', task.goal],
      ['model', task.model],
      ['session', link(`/session/${task.sessionId}`, task.sessionId)],
      ['directory', task.cwd],
      ['worker', task.owner ?? '—'],
      ['elapsed', seconds(task.elapsedSeconds)],
      ['model calls', String(task.apiCalls)],
      [
        'tokens',
        `${count(task.tokens)} (input ${task.usage.inputTokens}, cache read ${task.usage.cacheReadTokens}, cache write ${task.usage.cacheWriteTokens}, output ${task.usage.outputTokens}` +
          `${task.usage.reasoningTokens ? `, of which reasoning ${task.usage.reasoningTokens}` : ''})`,
      ],
      ['cache hit', `${Math.round(task.usage.cacheHitShare * 100)}% of input`],
      ['context', task.context ?? '—'],
      ['est. cost', usd(task.costUsd)],
      ['tree tokens', count(task.treeTokens)],
      ['budget', budgetLeft(task)],
      ['current tool', task.currentTool ?? '—'],
      ['started', clock(task.startedAt)],
      ['ended', clock(task.endedAt)],
    ];
    if (task.cancelledBy) facts.push(['cancelled by', task.cancelledBy]);
    if (task.exitReason) facts.push(['exit reason', task.exitReason]);
    const approval = task.approval;
    replace(
      content,
      el('h1', {}, 'Task ', el('span', { id: 'task-id' }, task.id), ' ', el('span', { id: 'task-status' }, badge(task.status))),
      el('dl', { class: 'facts' }, ...facts.flatMap(([name, value]) => [el('dt', {}, name), el('dd', {}, value)])),
      approval &&
        task.status === 'input_required' &&
        el(
          'div',
          { class: 'approval', id: 'approval' },
          el('h2', {}, `Waiting for approval ${approval.id} (${approval.kind}, ${approval.mode})`),
          el('pre', { id: 'approval-subject' }, approval.subject),
          el('p', {}, approval.reason),
          approval.answer
            ? el('p', { id: 'approval-answer' }, `answered: ${approval.answer.approved ? 'approved' : 'denied'}; the task goes on shortly`)
            : el(
                'div',
                { class: 'actions' },
                ...(approval.kind === 'budget' ? raiseInputs : []),
                button(
                  'approve',
                  () =>
                    void act(
                      'approve',
                      'approve',
                      approval.kind === 'budget' ? raiseBody() : {},
                      (result) => `${task.id}: approved ${described(result)}; the task goes on`,
                    ),
                  { id: 'approve-button' },
                ),
                denyReason,
                button(
                  'deny',
                  () =>
                    void act(
                      'deny',
                      'deny',
                      { reason: denyReason.value },
                      (result) => `${task.id}: denied ${described(result)} (${denied(result)}); the task goes on`,
                    ),
                  { id: 'deny-button', class: 'secondary' },
                ),
              ),
        ),
      el(
        'div',
        { class: 'actions' },
        isOpen && steerText,
        isOpen &&
          button(
            'steer',
            () => void act('steer', 'steer', { message: steerText.value }, () => `steer queued for ${task.id}: delivered at its next model call`),
            {
              id: 'steer-button',
            },
          ),
        isOpen && button('cancel', () => void act('cancel', 'cancel', {}, () => `${task.id} cancelled`), { id: 'cancel-button', class: 'secondary' }),
        (task.status === 'interrupted' || task.status === 'failed') &&
          button('resume', () => void act('resume', 'resume', {}, () => `resumed ${task.id} from its last checkpoint`), { id: 'resume-button' }),
      ),
      outcome,
      task.summary !== undefined && el('div', {}, el('h2', {}, 'Summary'), el('div', { class: 'summary text', id: 'summary' }, task.summary)),
      task.error && el('div', {}, el('h2', {}, 'Error'), el('div', { class: 'summary text error', id: 'error' }, task.error)),
      changes?.worktree && changesSection(changes),
      el('h2', {}, 'Output'),
      el('pre', { class: 'trail', id: 'trail' }, detail.output.length > 0 ? detail.output.join('\n') : '(no output yet)'),
      el('h2', {}, 'Steering'),
      detail.steers.length === 0
        ? el('p', { class: 'muted' }, 'no steering messages')
        : el(
            'ul',
            { class: 'steers', id: 'steers' },
            ...detail.steers.map((steer) =>
              el(
                'li',
                { 'data-state': steer.state },
                badge(steer.state),
                ' ',
                el('span', { class: 'text' }, steer.message),
                ' ',
                el('span', { class: 'muted' }, clock(steer.createdAt)),
              ),
            ),
          ),
      el('h2', {}, 'Conversation'),
      detail.conversationError ? el('p', { class: 'error' }, detail.conversationError) : conversationList(detail.conversation),
    );
  };

  const load = async (): Promise<void> => {
    try {
      const path = `/api/tasks/${encodeURIComponent(id)}`;
      // The diff is an extra: a git error there leaves the rest of the page as it is.
      const [detail, changes] = await Promise.all([getJson<TaskDetail>(path), getJson<TaskDiffView>(`${path}/diff`).catch(() => undefined)]);
      render(detail, changes);
    } catch (error) {
      replace(content, el('div', { class: 'notice bad' }, (error as Error).message));
    }
  };
  const unsubscribe = onTask((task) => {
    if (task.id !== id || reload !== undefined) return;
    reload = setTimeout(() => {
      reload = undefined;
      void load();
    }, 100);
  });
  replace(root, el('p', {}, link('/tasks', '← tasks')), content);
  void load();
  return () => {
    unsubscribe();
    if (reload) clearTimeout(reload);
  };
}

/** A worktree child's changes: its branch, files and line counts, and the diff (as `legate tasks diff`). */
function changesSection(changes: TaskDiffView): Node {
  const worktree = changes.worktree!;
  const summary = worktree.removed
    ? worktree.removed
    : `${worktree.branch}: ${worktree.changed_files.length} file(s) changed, +${worktree.insertions} -${worktree.deletions}`;
  return el(
    'div',
    { id: 'changes' },
    el('h2', {}, 'Changes'),
    el('p', { id: 'changes-summary' }, summary),
    changes.note && el('p', { class: 'muted' }, changes.note),
    worktree.changed_files.length > 0 && el('p', { class: 'muted', id: 'changed-files' }, worktree.changed_files.join(', ')),
    changes.diff && el('pre', { class: 'trail', id: 'diff' }, changes.diff),
    !worktree.removed && el('p', { class: 'muted' }, `merge it from a terminal in the repository: legate tasks merge ${changes.task_id}`),
  );
}

/** `request 1.1 (command "…")`, `request 1.2 (write /x)`: what was answered, as `legate tasks approve` says it. */
function described(result: Record<string, unknown>): string {
  const approval = result.approval as ApprovalView | undefined;
  if (!approval) return 'its request';
  if (approval.kind === 'budget') return `request ${approval.id} (a raise of ${approval.subject})`;
  return `request ${approval.id} (${approval.kind === 'exec' || approval.kind === 'network' ? `command ${JSON.stringify(approval.subject)}` : `${approval.kind} ${approval.subject}`})`;
}

/** The reason a denial was stored with. */
function denied(result: Record<string, unknown>): string {
  return (result.approval as ApprovalView | undefined)?.answer?.reason ?? 'denied by the user';
}
