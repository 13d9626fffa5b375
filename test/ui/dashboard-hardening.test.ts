import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { configuredKeys } from '../../src/cli/ui.js';
import { configSchema } from '../../src/config/schema.js';
import { redactDeep } from '../../src/ui/redaction.js';
import { taskFixture } from '../tasks/store-conformance.js';
import { dashboardOn } from './ui-harness.js';

/** Issue 23: `legate ui` checks Host and Origin, masks key values only, and shows no tool for a task that is not running. */

/** A GET with the given Host and Origin headers (fetch cannot set Host). */
function get(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('legate ui: Host and Origin', () => {
  it('answers its own address (any loopback name on its port) and refuses another Host or Origin with 403, naming it', async () => {
    const { dashboard } = await dashboardOn();
    const port = Number(new URL(dashboard.origin).port);
    const path = `/api/tasks?token=${dashboard.token}`;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) expect((await get(port, path, { host })).status, host).toBe(200);
    expect((await get(port, path, { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` })).status).toBe(200);

    // DNS rebinding: a page at evil.example whose name now resolves to 127.0.0.1.
    const rebound = await get(port, path, { host: `evil.example:${port}` });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body).error.message).toContain(`the Host header "evil.example:${port}" is not this dashboard's address`);
    // Another port on loopback is another origin too.
    expect((await get(port, path, { host: `127.0.0.1:${port + 1}` })).status).toBe(403);
    // Another site's script, whatever Host it reaches.
    const crossSite = await get(port, path, { host: `127.0.0.1:${port}`, origin: 'http://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(JSON.parse(crossSite.body).error.message).toContain('the Origin "http://evil.example" is not this dashboard');
  });
});

describe('legate ui: redaction', () => {
  it('masks real key values, not a placeholder such as `api_key: none` wherever the word appears', () => {
    const config = configSchema.parse({
      model: { provider: 'openai', name: 'm', base_url: 'http://127.0.0.1:1/v1', api_key: 'none' },
      delegation: { routes: { cheap: { provider: 'openai', model: 'c', base_url: 'http://127.0.0.1:2/v1', api_key: 'sk-live-REAL-KEY-000111222' } } },
    });
    const keys = configuredKeys({ config, file: undefined, home: '/tmp', unset: new Map() });
    expect(keys).toEqual(['sk-live-REAL-KEY-000111222']);
    const shown = redactDeep({ goal: 'none of the files use sk-live-REAL-KEY-000111222', error: 'api_key: none' }, keys);
    expect(shown.goal).toBe('none of the files use sk-...1222');
    expect(shown.error).toBe('api_key: none');
  });
});

describe('legate ui: current tool', () => {
  it('a cancelled task shows no current tool (its tool was aborted), in the store and on the dashboard', async () => {
    const { dashboard, store } = await dashboardOn();
    await store.create(taskFixture({ id: 't_cancel_tool', status: 'running', owner: 'h:1:n:k', leaseExpiresAt: Date.now() + 60_000 }));
    await store.appendOutput('t_cancel_tool', { lines: ['→ terminal'], progress: { currentTool: 'terminal' } });
    const before = await (await fetch(`${dashboard.origin}/api/tasks?token=${dashboard.token}`)).json();
    expect(JSON.stringify(before)).toContain('"currentTool":"terminal"');
    const cancel = await fetch(`${dashboard.origin}/api/tasks/t_cancel_tool/cancel`, { method: 'POST', headers: { 'x-legate-token': dashboard.token } });
    expect(cancel.status).toBe(200);
    expect((await store.get('t_cancel_tool'))!.currentTool ?? '').toBe('');
    const after = await (await fetch(`${dashboard.origin}/api/tasks?token=${dashboard.token}`)).json();
    expect(JSON.stringify(after)).toContain('t_cancel_tool');
    expect(JSON.stringify(after)).not.toContain('"currentTool":"terminal"');
    // An ended task whose record still names a tool (an older process wrote it) shows none either.
    await store.create(taskFixture({ id: 't_old_tool', status: 'failed', currentTool: 'terminal' }));
    const rows = await (await fetch(`${dashboard.origin}/api/tasks?token=${dashboard.token}`)).json();
    expect(JSON.stringify(rows)).not.toContain('"currentTool":"terminal"');
  });

  it('approving a budget request from the page raises it by the amounts given; the row shows the budget left (issue 27)', async () => {
    const { dashboard, store } = await dashboardOn();
    const approval = {
      id: '1.1',
      kind: 'budget' as const,
      subject: 'its tokens budget: spent 200 of 150',
      mode: 'workspace-write' as const,
      reason: 'r',
      requestedAt: 1,
    };
    await store.create(
      taskFixture({
        id: 't_ui_budget',
        status: 'input_required',
        owner: 'h:1:n:k',
        leaseExpiresAt: Date.now() + 60_000,
        approval,
        budget: { tokens: 150 },
        spend: { tokens: 200, costUsd: 0 },
      }),
    );
    const post = (body: unknown) =>
      fetch(`${dashboard.origin}/api/tasks/t_ui_budget/approve`, {
        method: 'POST',
        headers: { 'x-legate-token': dashboard.token },
        body: JSON.stringify(body),
      });
    const bad = await post({ tokens: '-1' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('--tokens must be a positive whole number (got \\"-1\\")');
    const approved = await post({ tokens: '500', usd: '', seconds: '' });
    expect(approved.status, await approved.clone().text()).toBe(200);
    expect((await store.get('t_ui_budget'))!.approval!.answer).toMatchObject({ approved: true, raise: { tokens: 500 } });
    const rows = await (await fetch(`${dashboard.origin}/api/tasks?token=${dashboard.token}`)).json();
    expect(rows.tasks.find((row: { id: string }) => row.id === 't_ui_budget')).toMatchObject({
      treeTokens: 200,
      budget: { limit: { tokens: 150 }, remaining: { tokens: 0 } },
    });
  });
});
