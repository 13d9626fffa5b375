import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { newToken, pageKey, requireToken } from './auth.js';
import { eventStream } from './event-stream.js';
import { ownHosts, requireOwnAddress } from './own-address.js';
import { contentSecurityPolicy, pageShell, styleSheet } from './page-shell.js';
import { apiRoutes, type DashboardDeps } from './routes.js';
import { TaskFeed } from './task-feed.js';

export type { DashboardDeps } from './routes.js';

export interface DashboardOptions extends DashboardDeps {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 4400; 0 picks a free port. */
  port?: number;
  /** Default: a fresh random one. */
  token?: string;
  /** How often the store is looked at for changes made by other processes, ms (default 250). */
  feedIntervalMs?: number;
}

export interface Dashboard {
  /** The address to open, token included: `http://127.0.0.1:4400/?token=…`. */
  url: string;
  /** The address without the token. */
  origin: string;
  token: string;
  feed: TaskFeed;
  close(): Promise<void>;
}

/**
 * Serve the dashboard: the page, its modules, the JSON API and the event stream, all behind the
 * token (see `requireToken`). Resolves once it listens (`EADDRINUSE` and the like reject).
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? newToken();
  const feed = new TaskFeed(options.tasks, options.feedIntervalMs);
  await feed.start();
  const closing = new AbortController();
  // Every open event stream listens for the close.
  setMaxListeners(0, closing.signal);
  const app = new Hono();
  const clientDir = findClientDir();
  const shell = pageShell(pageKey(token));
  let cookieName = 'legate_ui';
  let hosts: Set<string> | undefined = new Set(); // none until it listens

  app.use('*', async (c, next) => {
    await next();
    c.header('Content-Security-Policy', contentSecurityPolicy);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Cache-Control', 'no-store');
  });
  app.use(
    '*',
    requireOwnAddress(() => hosts),
  );
  app.use('*', (c, next) => requireToken(token, cookieName)(c, next));
  app.get('/', (c) => c.html(shell));
  app.get('/app/style.css', (c) => c.body(styleSheet, 200, { 'Content-Type': 'text/css; charset=utf-8' }));
  app.get('/app/:file', async (c) => {
    const file = c.req.param('file');
    if (!/^[a-z][a-z-]*\.js$/.test(file)) return c.json({ error: { code: 'not_found', message: `no file "${file}"` } }, 404);
    const text = await readFile(join(clientDir, file), 'utf8').catch(() => undefined); // not a client file: the 404 below names it
    if (text === undefined) return c.json({ error: { code: 'not_found', message: `no file "${file}"` } }, 404);
    return c.body(text, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
  });
  app.get('/events', (c) => eventStream(c, feed, options.prices, options.secrets, closing.signal));
  app.route('/api', apiRoutes(options));
  app.all('*', (c) => c.json({ error: { code: 'not_found', message: `nothing at ${c.req.path}` } }, 404));

  const server = await listen(app, host, options.port ?? 4400);
  const port = (server.address() as AddressInfo).port;
  // Cookies do not tell ports apart: one per port, so two dashboards on one host keep their own.
  cookieName = `legate_ui_${port}`;
  hosts = ownHosts(host, port);
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    feed,
    close: async () => {
      closing.abort();
      feed.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    },
  };
}

function listen(app: Hono, hostname: string, port: number): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname, port }, () => resolve(server));
    server.once('error', reject);
  });
}

/** dist/ui/client (the page's modules, compiled by `npm run build`), also when this file runs from src/ in the tests. */
function findClientDir(): string {
  const here = fileURLToPath(new URL('./client/', import.meta.url));
  if (existsSync(join(here, 'main.js'))) return here;
  return fileURLToPath(new URL('../../dist/ui/client/', import.meta.url));
}
