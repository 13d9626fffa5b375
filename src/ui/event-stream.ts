import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Prices } from '../delegation/usage-view.js';
import type { TaskRecord } from '../tasks/task-record.js';
import { redactDeep } from './redaction.js';
import type { TaskFeed } from './task-feed.js';
import { taskRow } from './task-views.js';

/** A comment line this often keeps proxies and the browser from closing an idle stream. */
const keepAliveMs = 15_000;

/**
 * `GET /events`: a server-sent event stream. First `ready` (the stream is subscribed), then one
 * `task` event (a `TaskRow`, keys masked) each time a task changes, in whichever process. The page
 * updates from these; it never polls.
 */
export function eventStream(c: Context, feed: TaskFeed, prices: Prices, secrets: readonly string[], closing: AbortSignal): Response {
  return streamSSE(c, async (stream) => {
    let writing = Promise.resolve();
    const send = (event: string, data: unknown): void => {
      writing = writing.then(() => stream.writeSSE({ event, data: JSON.stringify(redactDeep(data, secrets)) })).catch(() => {}); // the browser went away: the stream's close ends the feed
    };
    const unsubscribe = feed.subscribe((task: TaskRecord) => send('task', taskRow(task, prices)));
    const keepAlive = setInterval(() => {
      writing = writing
        .then(() => stream.write(': keep-alive\n\n'))
        .then(
          () => {},
          () => {},
        );
    }, keepAliveMs);
    try {
      send('ready', { at: Date.now() });
      await new Promise<void>((resolve) => {
        stream.onAbort(resolve);
        c.req.raw.signal.addEventListener('abort', () => resolve(), { once: true });
        // The dashboard is stopping: end the stream so that the server can close.
        if (closing.aborted) resolve();
        closing.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      clearInterval(keepAlive);
      unsubscribe();
    }
  });
}
