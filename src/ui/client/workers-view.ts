import type { WorkerView } from '../view-types.js';
import { getJson } from './api.js';
import { badge, el, link, replace } from './dom.js';
import { ago } from './format.js';
import { onTask } from './live.js';

/** `#/workers`: the processes holding tasks (shared mode: the workers), a dead one shown as dead. Read again when a task changes. */
export function workersView(root: Element): () => void {
  const body = el('div', {}, el('p', { class: 'muted' }, 'loading…'));
  let reload: ReturnType<typeof setTimeout> | undefined;
  const load = async (): Promise<void> => {
    try {
      const { workers } = await getJson<{ workers: WorkerView[] }>('/api/workers');
      replace(
        body,
        workers.length === 0
          ? el('p', { class: 'muted' }, 'no worker holds a task')
          : el(
              'table',
              { id: 'workers-table' },
              el('thead', {}, el('tr', {}, ...['worker', 'host', 'state', 'concurrency', 'tasks held', 'last heartbeat'].map((title) => el('th', {}, title)))),
              el(
                'tbody',
                {},
                ...workers.map((worker) =>
                  el(
                    'tr',
                    { 'data-id': worker.id },
                    el('td', {}, worker.id),
                    el('td', {}, worker.host),
                    el('td', {}, badge(worker.dead ? 'dead' : 'alive')),
                    el('td', { class: 'num' }, worker.concurrency ?? '—'),
                    el('td', {}, ...worker.tasks.flatMap((id) => [link(`/task/${id}`, id), ' '])),
                    el('td', {}, ago(worker.lastHeartbeat)),
                  ),
                ),
              ),
            ),
      );
    } catch (error) {
      replace(body, el('div', { class: 'notice bad' }, (error as Error).message));
    }
  };
  const unsubscribe = onTask(() => {
    if (reload === undefined)
      reload = setTimeout(() => {
        reload = undefined;
        void load();
      }, 300);
  });
  replace(root, el('h1', {}, 'Workers'), body);
  void load();
  return () => {
    unsubscribe();
    if (reload) clearTimeout(reload);
  };
}
