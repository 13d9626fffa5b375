import { el, replace } from './dom.js';
import { connectLive } from './live.js';
import { sessionsView, sessionView } from './sessions-view.js';
import { taskView } from './task-view.js';
import { tasksView } from './tasks-view.js';
import { workersView } from './workers-view.js';

/**
 * The dashboard page: a hash router over four views (tasks, a task, sessions and a session,
 * workers) fed by one event stream. Each view returns the function that stops it.
 */
let stop: () => void = () => {};

function route(): void {
  const root = document.getElementById('view');
  if (!root) return;
  stop();
  const [path = '', search = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(search);
  if (parts[0] === 'task' && parts[1]) stop = taskView(root, parts[1]);
  else if (parts[0] === 'session' && parts[1]) stop = sessionView(root, parts[1]);
  else if (parts[0] === 'sessions') stop = sessionsView(root);
  else if (parts[0] === 'workers') stop = workersView(root);
  else if (parts[0] === undefined || parts[0] === 'tasks') stop = tasksView(root, query);
  else {
    replace(root, el('p', {}, `no page "${path}"`));
    stop = () => {};
  }
}

connectLive(document.getElementById('live'));
window.addEventListener('hashchange', route);
route();
