import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';

/** A local HTTP server for the web tool tests: routes by path, records every request it got. */
export interface TestSite {
  /** `http://localhost:PORT` */
  url: string;
  port: number;
  requests: { path: string; host: string; userAgent: string }[];
  /** Requests being answered right now, and the most at once. */
  inFlight: { now: number; max: number };
}

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

export type Route = (request: IncomingMessage, response: ServerResponse, site: TestSite) => void | Promise<void>;

/** Start a site answering `routes` (by path, without the query); other paths get a 404. */
export async function startSite(routes: Record<string, Route>): Promise<TestSite> {
  const site: TestSite = { url: '', port: 0, requests: [], inFlight: { now: 0, max: 0 } };
  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    site.requests.push({ path, host: request.headers.host ?? '', userAgent: request.headers['user-agent'] ?? '' });
    site.inFlight.now += 1;
    site.inFlight.max = Math.max(site.inFlight.max, site.inFlight.now);
    response.on('close', () => {
      site.inFlight.now -= 1;
    });
    const route = routes[path];
    if (!route) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`no page at ${path}`);
      return;
    }
    await route(request, response, site);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, resolve));
  site.port = (server.address() as AddressInfo).port;
  site.url = `http://localhost:${site.port}`;
  return site;
}

export const articlePage = `<!doctype html>
<html><head><title>Tides of Brest</title>
<style>body { color: #123456 } .promo { display: none }</style>
<script>window.trackingSecret = "SCRIPT-PAYLOAD-1";</script>
</head><body>
<nav><a href="/">Home</a> | <a href="/about">About us</a> | <a href="/shop">NAV-SHOP-LINK</a></nav>
<header><div class="promo">Subscribe now</div></header>
<main><article>
<h1>How the tides work in Brest</h1>
<p>The <strong>moon</strong> pulls the water of the bay twice a day; see <a href="/moon">the moon page</a> for the orbit.</p>
<p>Spring tides come with the new and the full moon, when the sun and the moon pull along one line and the range of the tide in the harbour reaches seven metres or more.</p>
<p>Neap tides come at the quarters, when the pulls cross: the range is then much smaller, about three metres, and the currents in the Goulet are weaker.</p>
<ul><li>High water: ARTICLE-HIGH-WATER</li><li>Low water</li></ul>
<script>document.write("SCRIPT-PAYLOAD-2")</script>
</article></main>
<footer>FOOTER-COPYRIGHT 2026</footer>
<script src="/app.js"></script>
</body></html>`;
