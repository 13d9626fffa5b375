import type { TaskRow } from '../view-types.js';

type Listener = (task: TaskRow) => void;

const listeners = new Set<Listener>();

/** Open the event stream (the server pushes a `task` event each time a task changes); reconnects by itself. */
export function connectLive(indicator: Element | null): void {
  const source = new EventSource('/events');
  source.addEventListener('ready', () => {
    if (indicator) {
      indicator.textContent = 'live';
      indicator.classList.add('on');
    }
  });
  source.addEventListener('error', () => {
    if (indicator) {
      indicator.textContent = 'reconnecting…';
      indicator.classList.remove('on');
    }
  });
  source.addEventListener('task', (event) => {
    const task = JSON.parse((event as MessageEvent<string>).data) as TaskRow;
    for (const listener of listeners) listener(task);
  });
}

/** Be told of every task change while the current view is shown; returns the unsubscribe. */
export function onTask(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
