import { describe, expect, it } from 'vitest';
import { taskFixture } from '../tasks/store-conformance.js';
import { dashboardOn, readEvents, until } from './ui-harness.js';

const key = 'sk-live-UI-SECRET-KEY-0123456789';

describe('legate ui server', () => {
  it('needs the token on every request: 401 without it, a cookie after ?token=, POSTs only with the token header', async () => {
    const { dashboard, store } = await dashboardOn();
    await store.create(taskFixture({ id: 't_token0001', status: 'running', owner: 'h:1:n:k', leaseExpiresAt: Date.now() + 60_000 }));
    for (const path of ['/', '/api/tasks', '/events', '/app/main.js', '/api/tasks/t_token0001']) {
      const response = await fetch(`${dashboard.origin}${path}`);
      expect(response.status, path).toBe(401);
    }
    expect((await fetch(`${dashboard.origin}/api/tasks?token=wrong-token`)).status).toBe(401);
    // A script may put the token in the query of an API read.
    expect((await fetch(`${dashboard.origin}/api/tasks?token=${dashboard.token}`, { redirect: 'manual' })).status).toBe(200);
    // The address printed at start sets the cookie and drops the token from the address.
    const first = await fetch(dashboard.url, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/');
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const jar = cookie.split(';')[0]!;
    const page = await fetch(`${dashboard.origin}/`, { headers: { cookie: jar } });
    expect(page.status).toBe(200);
    const html = await page.text();
    // The page never carries the token itself (its POSTs send a key derived from it).
    expect(html).not.toContain(dashboard.token);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const pageKey = /name="legate-page-key" content="([^"]+)"/.exec(html)![1]!;
    expect((await fetch(`${dashboard.origin}/api/tasks`, { headers: { cookie: jar } })).status).toBe(200);

    // A cross-site form can send the cookie but not a header: refused, and the task is untouched.
    const forged = await fetch(`${dashboard.origin}/api/tasks/t_token0001/cancel`, { method: 'POST', headers: { cookie: jar } });
    expect(forged.status).toBe(403);
    expect((await store.get('t_token0001'))!.status).toBe('running');
    const wrongHeader = await fetch(`${dashboard.origin}/api/tasks/t_token0001/cancel`, { method: 'POST', headers: { cookie: jar, 'x-legate-token': 'nope' } });
    expect(wrongHeader.status).toBe(403);
    const noCookie = await fetch(`${dashboard.origin}/api/tasks/t_token0001/cancel`, { method: 'POST', headers: { 'x-legate-token': pageKey } });
    expect(noCookie.status).toBe(401);
    expect((await fetch(`${dashboard.origin}/api/tasks/t_token0001`, { method: 'DELETE', headers: { 'x-legate-token': dashboard.token } })).status).toBe(405);
    const cancelled = await fetch(`${dashboard.origin}/api/tasks/t_token0001/cancel`, { method: 'POST', headers: { cookie: jar, 'x-legate-token': pageKey } });
    expect(cancelled.status).toBe(200);
    expect((await store.get('t_token0001'))!.status).toBe('cancelled');
    // The same error as the CLI's for a second cancel.
    const again = await fetch(`${dashboard.origin}/api/tasks/t_token0001/cancel`, { method: 'POST', headers: { 'x-legate-token': dashboard.token } });
    expect(again.status).toBe(409);
    expect((await again.json()).error.message).toBe('task_finished: task "t_token0001" already ended (cancelled); nothing to cancel');
  });

  it('masks configured keys in everything it sends: rows, the task page, session transcripts and the event stream', async () => {
    const { dashboard, store } = await dashboardOn({ secrets: [key] });
    const headers = { 'x-legate-token': dashboard.token };
    await store.create(taskFixture({ id: 't_redact001', status: 'running', goal: `use ${key} to call`, error: undefined }));
    await store.appendOutput('t_redact001', { lines: [`echo ${key}`], progress: { currentTool: `bash ${key}` } });
    await store.appendCheckpoint('t_redact001', { step: 0, iteration: 1, messages: [{ role: 'tool', toolCallId: 'c1', name: 'bash', content: `KEY=${key}` }] });
    await store.sessions.save({ id: 's_redact0001', cwd: '/w', createdAt: 1, updatedAt: 2, messages: [{ role: 'user', content: `my key is ${key}` }] });
    const events = readEvents(dashboard);
    await events.ready;
    await store.addSteer('t_redact001', `steer with ${key}`);
    await store.update('t_redact001', { apiCalls: 3, currentTool: `read ${key}` });

    const bodies = await Promise.all(
      ['/api/tasks', '/api/tasks/t_redact001', '/api/sessions', '/api/sessions/s_redact0001'].map(async (path) => {
        const response = await fetch(`${dashboard.origin}${path}`, { headers });
        expect(response.status, path).toBe(200);
        return response.text();
      }),
    );
    await until(() => events.events.some((event) => event.data.apiCalls === 3), 'the update on the event stream');
    const streamed = JSON.stringify(events.events);
    for (const text of [...bodies, streamed]) {
      expect(text).not.toContain(key);
      expect(text).toContain('sk-...6789');
    }
    expect(bodies[1]).toContain('steer with sk-...6789');
    expect(bodies[3]).toContain('my key is sk-...6789');
  });

  it('20 open event streams each see all of 200 tasks change state, among 1000 tasks the table pages through', async () => {
    const { dashboard, store } = await dashboardOn();
    const all = Array.from({ length: 1000 }, (_, n) => `t_load${String(n).padStart(4, '0')}`);
    const start = Date.now() - 10_000;
    for (const [n, id] of all.entries()) await store.create(taskFixture({ id, status: 'queued', createdAt: start + n }));
    const ids = all.filter((_, n) => n % 5 === 0);
    const streams = Array.from({ length: 20 }, () => readEvents(dashboard));
    await Promise.all(streams.map((stream) => stream.ready));
    expect(dashboard.feed.subscribers).toBe(20);

    await Promise.all(ids.map((id, n) => store.transition(id, 'queued', 'cancelled', { endedAt: Date.now(), error: `stop ${n}` })));
    for (const [n, stream] of streams.entries()) {
      const cancelledIn = (): Set<string> => new Set(stream.events.filter((event) => event.data.status === 'cancelled').map((event) => event.data.id));
      await until(() => cancelledIn().size === 200, `stream ${n} to see 200 cancellations (it saw ${cancelledIn().size})`);
      expect([...cancelledIn()].sort()).toEqual(ids);
    }
    // The table pages through them, newest first, filtered or not.
    const read = async (query: string) => (await fetch(`${dashboard.origin}/api/tasks?${query}`, { headers: { 'x-legate-token': dashboard.token } })).json();
    const cancelled = await read('offset=50&limit=50&status=cancelled');
    expect(cancelled.total).toBe(200);
    expect(cancelled.tasks.map((task: { id: string }) => task.id)).toEqual(ids.slice().reverse().slice(50, 100));
    const last = await read('offset=950&limit=50');
    expect(last.total).toBe(1000);
    expect(last.tasks.map((task: { id: string }) => task.id)).toEqual(all.slice(0, 50).reverse());
    expect((await read('limit=x')).error.message).toBe('invalid_arguments: limit must be a whole number >= 0 (got "x")');
    for (const stream of streams) stream.close();
    await until(() => dashboard.feed.subscribers === 0, 'the streams to unsubscribe');
  });
});
