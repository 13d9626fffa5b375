import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';

/** The header a state-changing request (a POST) carries: the token, or the page key derived from it. */
export const tokenHeader = 'x-legate-token';

/** A fresh random token (as Jupyter prints in its URL): 24 bytes, URL-safe. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The key the dashboard's own page puts in the token header of its POSTs. It is derived from the
 * token (an HMAC), so the token itself is never sent to the page, and another site, which cannot
 * read the page, cannot learn it.
 */
export function pageKey(token: string): string {
  return createHmac('sha256', token).update('legate-ui-page-key').digest('base64url');
}

/** Constant-time string equality. */
function same(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Every request needs the token: in the query (`?token=…`, which also sets an HttpOnly, SameSite
 * cookie; the page's address then redirects to itself without it), else in the cookie or the header. A state-changing
 * request must be a POST and must also carry the token or the page key in the `x-legate-token`
 * header, which a form or an image on another site cannot send. Refused: 401 (no or wrong token),
 * 403 (a POST without the header), 405 (another method that would change state).
 */
export function requireToken(token: string, cookieName: string): MiddlewareHandler {
  const key = pageKey(token);
  return async (c, next) => {
    const fromQuery = c.req.query('token');
    const authorised = same(fromQuery, token) || same(getCookie(c, cookieName), token) || same(c.req.header(tokenHeader), token);
    if (!authorised) return refuse(c, 401, 'unauthorized', 'this dashboard needs its token: open the URL `legate ui` printed (…?token=…)');
    const method = c.req.method;
    if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') return refuse(c, 405, 'method_not_allowed', `${method} is not allowed here`);
    if (method === 'POST') {
      const header = c.req.header(tokenHeader);
      if (!same(header, token) && !same(header, key)) return refuse(c, 403, 'forbidden', `a POST needs the token in the ${tokenHeader} header`);
    }
    if (fromQuery !== undefined && method === 'GET') {
      setCookie(c, cookieName, token, { httpOnly: true, sameSite: 'Strict', path: '/' });
      // The page's address: the token leaves the address bar (and the history) once the cookie holds it.
      // (A script's `GET /api/…?token=…` is answered directly.)
      if (c.req.path === '/') {
        const url = new URL(c.req.url);
        url.searchParams.delete('token');
        return c.redirect(`${url.pathname}${url.search}`, 303);
      }
    }
    await next();
  };
}

function refuse(c: Context, status: 401 | 403 | 405, code: string, message: string): Response {
  return c.json({ error: { code, message } }, status);
}
