import type { TaskPage, TaskRow } from '../view-types.js';
import { getJson } from './api.js';
import { badge, button, el, link, replace } from './dom.js';
import { count, seconds, short, usd } from './format.js';
import { onTask } from './live.js';

const statuses = ['', 'queued', 'running', 'input_required', 'interrupted', 'completed', 'failed', 'cancelled'];
const pageSize = 50;

/** `#/tasks?status=…&session=…&cwd=…&page=N`: the live tasks table, newest first, one page at a time. */
export function tasksView(root: Element, query: URLSearchParams): () => void {
  const filter = { status: query.get('status') ?? '', session: query.get('session') ?? '', cwd: query.get('cwd') ?? '' };
  const page = Math.max(0, Number(query.get('page') ?? '0') || 0);
  const rows = new Map<string, { row: HTMLTableRowElement; task: TaskRow; at: number }>();
  const body = el('tbody');
  const summary = el('span', { id: 'tasks-total' });
  const message = el('div');
  let refetch: ReturnType<typeof setTimeout> | undefined;

  const go = (next: Partial<typeof filter> & { page?: number }): void => {
    const params = new URLSearchParams();
    const merged = { ...filter, page: 0, ...next };
    for (const [name, value] of Object.entries(merged)) if (value) params.set(name, String(value));
    location.hash = `#/tasks?${params.toString()}`;
  };
  const statusSelect = el(
    'select',
    { id: 'filter-status', 'aria-label': 'status' },
    ...statuses.map((status) => el('option', { value: status }, status || 'any status')),
  );
  statusSelect.value = filter.status;
  statusSelect.addEventListener('change', () => go({ status: statusSelect.value }));
  const sessionInput = el('input', { id: 'filter-session', placeholder: 'session id', value: filter.session });
  const cwdInput = el('input', { id: 'filter-cwd', placeholder: 'directory', value: filter.cwd, size: '36' });
  for (const input of [sessionInput, cwdInput])
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') go({ session: sessionInput.value.trim(), cwd: cwdInput.value.trim() });
    });

  const fill = (row: HTMLTableRowElement, task: TaskRow): void => {
    row.dataset.status = task.status;
    replace(
      row,
      el('td', {}, link(`/task/${task.id}`, task.id)),
      el('td', { class: 'status-cell' }, badge(task.status)),
      el('td', { class: 'goal' }, short(task.goal, 140)),
      el('td', {}, task.model),
      el('td', {}, link(`/session/${task.sessionId}`, task.sessionId)),
      el('td', { title: task.owner ?? '' }, task.owner ? short(task.owner, 22) : '—'),
      el('td', { class: 'num elapsed' }, seconds(task.elapsedSeconds)),
      el('td', { class: 'num' }, task.apiCalls),
      el('td', { class: 'num' }, count(task.tokens)),
      el('td', { class: 'num' }, usd(task.costUsd)),
      el('td', { class: 'budget' }, budgetLeft(task)),
      el('td', {}, task.currentTool ?? ''),
    );
  };
  const show = (task: TaskRow): void => {
    const known = rows.get(task.id);
    const row = known?.row ?? el('tr', { class: 'row', 'data-id': task.id });
    if (!known) row.addEventListener('click', (event) => (event.target as Element).closest('a') || (location.hash = `#/task/${task.id}`));
    rows.set(task.id, { row, task, at: Date.now() });
    fill(row, task);
    return void (known || body.appendChild(row));
  };
  const load = async (): Promise<void> => {
    const params = new URLSearchParams({ offset: String(page * pageSize), limit: String(pageSize) });
    for (const [name, value] of Object.entries(filter)) if (value) params.set(name, value);
    try {
      const result = await getJson<TaskPage>(`/api/tasks?${params.toString()}`);
      rows.clear();
      body.replaceChildren();
      for (const task of result.tasks) show(task);
      const last = Math.min(result.total, result.offset + result.tasks.length);
      replace(summary, result.total === 0 ? 'no tasks' : `${result.offset + 1}–${last} of ${result.total}`);
      prev.disabled = page === 0;
      next.disabled = last >= result.total;
      replace(message);
    } catch (error) {
      replace(message, el('div', { class: 'notice bad' }, (error as Error).message));
    }
  };
  const prev = button('← newer', () => go({ page: page - 1 }), { class: 'secondary', id: 'page-prev' });
  const next = button('older →', () => go({ page: page + 1 }), { class: 'secondary', id: 'page-next' });

  const matches = (task: TaskRow): boolean =>
    (!filter.status || task.status === filter.status) && (!filter.session || task.sessionId === filter.session) && (!filter.cwd || task.cwd === filter.cwd);
  const unsubscribe = onTask((task) => {
    if (rows.has(task.id) && matches(task)) return show(task);
    // A new task (or one that left or joined the filter): read the page again, once per burst.
    if (refetch === undefined && (rows.has(task.id) || (page === 0 && matches(task))))
      refetch = setTimeout(() => {
        refetch = undefined;
        void load();
      }, 150);
  });
  // Elapsed time of the open tasks goes on between events.
  const tick = setInterval(() => {
    for (const { row, task, at } of rows.values()) {
      if (task.status !== 'running') continue;
      const cell = row.querySelector('.elapsed');
      if (cell) cell.textContent = seconds(task.elapsedSeconds + (Date.now() - at) / 1000);
    }
  }, 1000);

  const headings = ['task', 'status', 'goal', 'model / route', 'session', 'worker', 'elapsed', 'calls', 'tokens', 'est. cost', 'budget left', 'current tool'];
  replace(
    root,
    el('h1', {}, 'Tasks'),
    el(
      'div',
      { class: 'filters' },
      statusSelect,
      sessionInput,
      cwdInput,
      button('filter', () => go({ session: sessionInput.value.trim(), cwd: cwdInput.value.trim() }), { class: 'secondary' }),
    ),
    message,
    el('table', { id: 'tasks-table' }, el('thead', {}, el('tr', {}, ...headings.map((title) => el('th', {}, title)))), body),
    el('div', { class: 'pager' }, prev, next, summary),
  );
  void load();
  return () => {
    unsubscribe();
    clearInterval(tick);
    if (refetch) clearTimeout(refetch);
  };
}

/** `450 of 650 tokens left (tree 200)`: what is left of each field of a task's budget; `—` without one. */
export function budgetLeft(task: TaskRow): string {
  const budget = task.budget;
  if (!budget) return '—';
  const unit = (field: string, value: number): string => (field === 'cost_usd' ? `$${value}` : field === 'seconds' ? `${value} s` : `${value} tokens`);
  return Object.entries(budget.limit)
    .map(([field, limit]) => `${unit(field, budget.remaining[field] ?? 0)} of ${unit(field, limit)} left`)
    .join(', ');
}
