import type { SessionDetail, SessionRow } from '../view-types.js';
import { getJson } from './api.js';
import { conversationList } from './conversation.js';
import { badge, el, link, replace } from './dom.js';
import { ago, seconds, short } from './format.js';

/** `#/sessions`: stored sessions, most recently updated first. */
export function sessionsView(root: Element): () => void {
  replace(root, el('h1', {}, 'Sessions'), el('p', { class: 'muted' }, 'loading…'));
  void (async () => {
    try {
      const { sessions } = await getJson<{ sessions: SessionRow[] }>('/api/sessions');
      const rows = sessions.map((session) =>
        el(
          'tr',
          { 'data-id': session.id },
          el('td', {}, link(`/session/${session.id}`, session.id)),
          el('td', { class: 'goal' }, session.title),
          el('td', {}, session.cwd),
          el('td', { class: 'num' }, session.messages),
          el('td', {}, ago(session.updatedAt)),
        ),
      );
      replace(
        root,
        el('h1', {}, 'Sessions'),
        sessions.length === 0
          ? el('p', { class: 'muted' }, 'no stored sessions')
          : el(
              'table',
              { id: 'sessions-table' },
              el('thead', {}, el('tr', {}, ...['session', 'first message', 'directory', 'messages', 'updated'].map((title) => el('th', {}, title)))),
              el('tbody', {}, ...rows),
            ),
      );
    } catch (error) {
      replace(root, el('h1', {}, 'Sessions'), el('div', { class: 'notice bad' }, (error as Error).message));
    }
  })();
  return () => {};
}

/** `#/session/ID`: a session's transcript and its tasks. */
export function sessionView(root: Element, id: string): () => void {
  replace(root, el('h1', {}, `Session ${id}`), el('p', { class: 'muted' }, 'loading…'));
  void (async () => {
    try {
      const detail = await getJson<SessionDetail>(`/api/sessions/${encodeURIComponent(id)}`);
      replace(
        root,
        el('p', {}, link('/sessions', '← sessions')),
        el('h1', {}, `Session ${detail.session.id}`),
        el('p', { class: 'muted' }, `${detail.session.cwd} · ${detail.session.messages} messages · updated ${ago(detail.session.updatedAt)}`),
        el('h2', {}, `Tasks (${detail.tasks.length})`),
        detail.tasks.length === 0
          ? el('p', { class: 'muted' }, 'no tasks')
          : el(
              'ul',
              { id: 'session-tasks' },
              ...detail.tasks.map((task) =>
                el('li', {}, link(`/task/${task.id}`, task.id), ' ', badge(task.status), ' ', short(task.goal, 100), ' ', seconds(task.elapsedSeconds)),
              ),
            ),
        el('h2', {}, 'Transcript'),
        conversationList(detail.conversation),
      );
    } catch (error) {
      replace(root, el('p', {}, link('/sessions', '← sessions')), el('div', { class: 'notice bad' }, (error as Error).message));
    }
  })();
  return () => {};
}
