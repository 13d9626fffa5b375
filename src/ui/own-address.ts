import type { MiddlewareHandler } from 'hono';
import { quoted } from '../errors.js';

/**
 * The names a browser may use for the dashboard bound at `host:port`: that address, and for a
 * loopback bind every loopback name (127.0.0.1, localhost, [::1]) on the same port. A wildcard bind
 * (0.0.0.0, ::) has no one name: undefined, and only the Origin rule below applies.
 */
export function ownHosts(host: string, port: number): Set<string> | undefined {
  if (host === '0.0.0.0' || host === '::') return undefined;
  const names = new Set([host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`]);
  if (host === 'localhost' || host === '::1' || /^127\./.test(host))
    for (const name of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) names.add(name);
  return names;
}

/**
 * Defence in depth beside the token: a request whose `Host` is not the dashboard's own address (a
 * DNS-rebinding page that resolved its own name to 127.0.0.1) or whose `Origin`, when sent, is not
 * `http://` + that Host (another site's script) is refused with 403, naming the header and value.
 */
export function requireOwnAddress(allowed: () => Set<string> | undefined): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header('host') ?? '';
    const names = allowed();
    if (names && !names.has(host.toLowerCase())) return refuse(c, `the Host header ${quoted(host)} is not this dashboard's address (${[...names].join(', ')})`);
    const origin = c.req.header('origin');
    if (origin !== undefined && origin.toLowerCase() !== `http://${host.toLowerCase()}`)
      return refuse(c, `the Origin ${quoted(origin)} is not this dashboard (${quoted(`http://${host}`)})`);
    await next();
  };
}

function refuse(c: Parameters<MiddlewareHandler>[0], message: string): Response {
  return c.json({ error: { code: 'forbidden', message } }, 403);
}
