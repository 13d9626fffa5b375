import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { configSchema } from '../../src/config/schema.js';
import { Runtime } from '../../src/runtime.js';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import { operator } from '../../src/tasks/task-service.js';
import { type RecordedRequest, type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { chromiumPath, launchChromium, testOutputDir } from '../helpers/browser.js';
import { type RunningCli, scriptedConfig, startCli, tempDir, tempHome, until } from '../helpers/cli.js';
import { taskFixture } from '../tasks/store-conformance.js';
import { childSpec, gate } from '../tasks/task-runtime-helpers.js';
import { gitRepository, setGitIdentity } from '../worktrees/git-repo.js';

const chromium = chromiumPath();

/** What the scripted model answers each goal's child (the goal is in every request of that child). */
const gates = { live: gate(), steer: gate() };
function reply(request: RecordedRequest) {
  const calls = (goal: string): number => server.requests.filter((seen) => seen.text.includes(goal) && seen.index <= request.index).length;
  if (request.text.includes('GOAL-LIVE')) return gates.live.opened.then(() => ({ text: 'LIVE-SUMMARY' }));
  if (request.text.includes('GOAL-STEER'))
    return calls('GOAL-STEER') === 1 ? gates.steer.opened.then(() => ({ toolCalls: [{ name: 'list_dir', arguments: {} }] })) : { text: 'STEERED-SUMMARY' };
  if (request.text.includes('GOAL-CANCEL') || request.text.includes('GOAL-HOLD')) return { hang: true };
  for (const goal of ['GOAL-APPROVE', 'GOAL-DENY'])
    if (request.text.includes(goal))
      return calls(goal) === 1 ? { toolCalls: [{ name: 'terminal', arguments: { command: outsideCommand(goal), escalate: true } }] } : { text: `${goal} done` };
  if (request.text.includes('GOAL-RESUME')) return { text: 'RESUMED-SUMMARY' };
  if (request.text.includes('GOAL-MARKUP')) return { text: '<script>window.__pwned = 1</script><b>bold?</b> <img src=x onerror="window.__pwned=2">' };
  return { status: 500 };
}

/** A command that writes outside the workspace: the sandbox asks for approval. */
const outsideCommand = (goal: string): string => `echo ${goal}-ran >> ${join(outside, `${goal}.txt`)}`;
let outside: string;
let server: ScriptedServer;
let browser: Browser;
let runtime: Runtime;
let ui: RunningCli;
let address: string;
let origin: string;
let work: string;
let stateFile: string;
const shots = testOutputDir('ui');
const contexts: BrowserContext[] = [];

describe.skipIf(!chromium)('legate ui in a real browser', () => {
  beforeAll(async () => {
    server = await startScriptedServer({ handler: reply });
    const made = tempHome();
    work = made.work;
    outside = tempDir('legate-outside-');
    // Background children ask for approval (instead of being refused) when a call needs more than their sandbox mode.
    const config = scriptedConfig(server.openaiBaseUrl, { agent: { approval: 'on-request' } });
    writeFileSync(made.configFile, stringify(config));
    writeFileSync(join(work, 'notes.ts'), 'export {};\n');
    stateFile = join(made.home, 'state.db');
    // The tasks run in this process (as in a chat or a worker); the dashboard is another process on the same LEGATE_HOME.
    runtime = new Runtime({
      loaded: { config: configSchema.parse(config), file: made.configFile, home: made.home, unset: new Map() },
      cwd: work,
      store: SqliteTaskStore.open(join(made.home, 'state.db')),
    });
    ui = startCli(['--config', made.configFile, 'ui', '--port', '0'], { home: made.home, cwd: work });
    await until(() => /legate ui: http\S+/.test(ui.stdout()), 20_000, 'the dashboard address');
    address = /legate ui: (http\S+)/.exec(ui.stdout())![1]!;
    origin = new URL(address).origin;
    // Loopback (the default): no warning.
    expect(ui.stderr()).not.toContain('warning');
    browser = await launchChromium(chromium!);
  });

  afterAll(async () => {
    gates.live.open();
    gates.steer.open();
    await browser?.close();
    ui?.kill('SIGTERM');
    await ui?.done;
    await runtime?.close();
    await server?.close();
  });

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });

  async function openPage(path = ''): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(address);
    await page.waitForSelector('#live.on');
    if (path) await page.goto(`${origin}/${path}`);
    return page;
  }

  it('a request without the token gets 401 (and the page then works with it)', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const refused = await page.goto(`${origin}/`);
    expect(refused!.status()).toBe(401);
    expect(await page.textContent('body')).toContain('needs its token');
    const allowed = await page.goto(address);
    expect(allowed!.status()).toBe(200);
    expect(page.url()).toBe(`${origin}/`);
  });

  it('a running task appears in the table and changes status live, without a reload', async () => {
    const page = await openPage();
    await page.waitForSelector('#tasks-table');
    let reloads = 0;
    page.on('framenavigated', () => reloads++);
    const task = await runtime.tasks.spawn(childSpec('GOAL-LIVE: count the files', work));
    const row = page.locator(`#tasks-table tr[data-id="${task.id}"]`);
    await row.locator('.status', { hasText: 'running' }).waitFor();
    expect(await row.textContent()).toContain('GOAL-LIVE: count the files');
    await page.screenshot({ path: join(shots, 'tasks-page.png'), fullPage: true });
    gates.live.open();
    await row.locator('.status', { hasText: 'completed' }).waitFor();
    expect(reloads).toBe(0);
    // Filters: by status, then by a session and a directory that hold none of them.
    await page.selectOption('#filter-status', 'completed');
    await page.locator('#tasks-total', { hasText: '1–1 of 1' }).waitFor();
    expect(await page.locator('#tasks-table tbody tr').evaluateAll((rows) => rows.map((tr) => (tr as HTMLElement).dataset.status))).toEqual(['completed']);
    await page.fill('#filter-session', 's_nobody');
    await page.press('#filter-session', 'Enter');
    await page.locator('#tasks-total', { hasText: 'no tasks' }).waitFor();
    await page.goto(`${origin}/#/tasks?cwd=${encodeURIComponent(work)}`);
    await page.locator(`#tasks-table tr[data-id="${task.id}"]`).waitFor();
    expect(await page.inputValue('#filter-cwd')).toBe(work);
  });

  it('a steer from the task page reaches the child; the history shows it delivered', async () => {
    const task = await runtime.tasks.spawn(childSpec('GOAL-STEER: list the files', work));
    const page = await openPage(`#/task/${task.id}`);
    await page.locator('#task-status .status', { hasText: 'running' }).waitFor();
    await page.fill('#steer-text', 'STEER-FROM-PAGE: only the .ts files');
    await page.click('#steer-button');
    await page.locator('#notice', { hasText: `steer queued for ${task.id}` }).waitFor();
    gates.steer.open();
    await page.locator('#task-status .status', { hasText: 'completed' }).waitFor();
    const steered = server.requests.filter((request) => request.text.includes('GOAL-STEER'));
    expect(steered).toHaveLength(2);
    expect(steered[0]!.text).not.toContain('STEER-FROM-PAGE');
    expect(steered[1]!.text).toContain('STEER-FROM-PAGE: only the .ts files');
    await page.locator('#steers li[data-state="delivered"]', { hasText: 'STEER-FROM-PAGE' }).waitFor();
    expect(await page.textContent('#summary')).toBe('STEERED-SUMMARY');
    // The conversation shows the tool call and its result.
    expect(await page.locator('#conversation .entry.tool_call').count()).toBe(1);
    expect(await page.locator('#conversation .entry.tool_result').count()).toBe(1);
    await page.screenshot({ path: join(shots, 'task-page.png'), fullPage: true });
    // Steering an ended task is refused with the CLI's error.
    const refused = await page.evaluate(async (id) => {
      const key = document.querySelector('meta[name="legate-page-key"]')!.getAttribute('content')!;
      const response = await fetch(`/api/tasks/${id}/steer`, { method: 'POST', headers: { 'x-legate-token': key }, body: JSON.stringify({ message: 'late' }) });
      return { status: response.status, body: await response.json() };
    }, task.id);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toBe(`task_not_running: task "${task.id}" is completed; only a queued or running task can be steered`);
  });

  it('cancel from the task page stops the child', async () => {
    const task = await runtime.tasks.spawn(childSpec('GOAL-CANCEL: wait forever', work));
    await until(() => server.requests.some((request) => request.text.includes('GOAL-CANCEL')), 15_000, 'the child model call');
    const page = await openPage(`#/task/${task.id}`);
    await page.locator('#task-status .status', { hasText: 'running' }).waitFor();
    await page.click('#cancel-button');
    await page.locator('#task-status .status', { hasText: 'cancelled' }).waitFor();
    expect(await page.textContent('#notice')).toContain(`${task.id} cancelled`);
    const call = server.requests.find((request) => request.text.includes('GOAL-CANCEL'))!;
    // The process running it aborted the model call.
    await until(() => call.aborted, 15_000, 'the model call to be aborted');
    expect(await runtime.tasks.get(operator, task.id)).toMatchObject({ status: 'cancelled', cancelledBy: 'user' });
  });

  it('model output containing <script> shows as text and never runs', async () => {
    const task = await runtime.tasks.spawn(childSpec('GOAL-MARKUP: say something', work));
    await runtime.tasks.waitForEnd(operator, task.id, 15_000);
    const page = await openPage(`#/task/${task.id}`);
    await page.waitForSelector('#summary');
    expect(await page.textContent('#summary')).toBe('<script>window.__pwned = 1</script><b>bold?</b> <img src=x onerror="window.__pwned=2">');
    expect(await page.locator('#summary script, #summary b, #summary img').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    const entry = page.locator('#conversation .entry.assistant .text');
    expect(await entry.textContent()).toContain('<script>window.__pwned = 1</script>');
  });

  it("a worktree child's page shows its changes: branch, files and the diff", async () => {
    setGitIdentity();
    const repo = gitRepository();
    const created = await runtime.worktrees.create(repo, 't_uichanges1');
    writeFileSync(join(created.path, 'shared.txt'), 'one\nFROM-THE-CHILD\nthree\n');
    await runtime.worktrees.finish(created, 'Rewrite line two');
    const store = SqliteTaskStore.open(stateFile);
    await store.create(taskFixture({ id: 't_uichanges1', status: 'completed', summary: 'rewrote it', endedAt: Date.now(), cwd: repo, worktree: created }));
    await store.close();
    const page = await openPage('#/task/t_uichanges1');
    await page.waitForSelector('#diff');
    expect(await page.textContent('#changes-summary')).toBe('legate/t_uichanges1: 1 file(s) changed, +1 -1');
    expect(await page.textContent('#changed-files')).toBe('shared.txt');
    expect(await page.textContent('#diff')).toContain('+FROM-THE-CHILD');
    expect(await page.textContent('#changes')).toContain('legate tasks merge t_uichanges1');
  });

  it('the workers page shows the process holding a task; the sessions page opens a transcript and its tasks', async () => {
    const sessionId = 's_uisession001';
    await runtime.sessions.save({
      id: sessionId,
      cwd: work,
      createdAt: Date.now() - 5000,
      updatedAt: Date.now(),
      messages: [
        { role: 'user', content: 'SESSION-QUESTION: what is in notes.ts?' },
        { role: 'assistant', content: 'SESSION-ANSWER: an empty module' },
      ],
    });
    const task = await runtime.tasks.spawn(childSpec('GOAL-HOLD: keep going', work, sessionId));
    const page = await openPage('#/workers');
    const worker = page.locator(`#workers-table tr[data-id="${runtime.tasks.owner}"]`);
    await worker.locator('a', { hasText: task.id }).waitFor();
    expect(await worker.locator('.status').textContent()).toBe('alive');
    await page.goto(`${origin}/#/sessions`);
    await page.click(`#sessions-table tr[data-id="${sessionId}"] a`);
    await page.locator('#session-tasks a', { hasText: task.id }).waitFor();
    expect(await page.locator('#conversation').textContent()).toContain('SESSION-ANSWER: an empty module');
    await runtime.tasks.cancel(operator, task.id);
  });

  it('resume from the task page continues an interrupted task (run by the dashboard process) to its end', async () => {
    const store = SqliteTaskStore.open(stateFile);
    const id = 't_resume0001';
    try {
      await store.create(taskFixture({ id, status: 'interrupted', goal: 'GOAL-RESUME: finish it', cwd: work, toolsets: [], createdAt: Date.now() }));
    } finally {
      await store.close();
    }
    const page = await openPage(`#/task/${id}`);
    await page.locator('#task-status .status', { hasText: 'interrupted' }).waitFor();
    await page.click('#resume-button');
    await page.locator('#task-status .status', { hasText: 'completed' }).waitFor();
    expect(await page.textContent('#summary')).toBe('RESUMED-SUMMARY');
    expect(await page.textContent('#notice')).toContain(`resumed ${id} from its last checkpoint`);
    expect(await page.locator('#resume-button').count()).toBe(0);
  });

  it('a parked child is approved from the page (its command runs once); another is denied with a reason the child reads', async () => {
    const approvedFile = join(outside, 'GOAL-APPROVE.txt');
    const task = await runtime.tasks.spawn({ ...childSpec('GOAL-APPROVE: write outside', work), toolsets: ['terminal'] });
    const page = await openPage(`#/task/${task.id}`);
    await page.locator('#task-status .status', { hasText: 'input_required' }).waitFor();
    expect(await page.textContent('#approval-subject')).toBe(outsideCommand('GOAL-APPROVE'));
    expect(await page.textContent('#approval')).toContain('workspace-write');
    await page.screenshot({ path: join(shots, 'approval-page.png'), fullPage: true });
    expect(existsSync(approvedFile)).toBe(false);
    await page.click('#approve-button');
    await page.locator('#notice', { hasText: `${task.id}: approved request` }).waitFor();
    await page.locator('#task-status .status', { hasText: 'completed' }).waitFor();
    expect(readFileSync(approvedFile, 'utf8')).toBe('GOAL-APPROVE-ran\n');
    expect(await page.locator('#approval').count()).toBe(0);

    const other = await runtime.tasks.spawn({ ...childSpec('GOAL-DENY: write outside', work), toolsets: ['terminal'] });
    await page.goto(`${origin}/#/task/${other.id}`);
    await page.locator('#task-status .status', { hasText: 'input_required' }).waitFor();
    await page.fill('#deny-reason', 'not there, write under ./out');
    await page.click('#deny-button');
    await page.locator('#notice', { hasText: `${other.id}: denied request` }).waitFor();
    expect(await page.textContent('#notice')).toContain('(not there, write under ./out)');
    await page.locator('#task-status .status', { hasText: 'completed' }).waitFor();
    const denied = server.requests.filter((request) => request.text.includes('GOAL-DENY'));
    expect(denied).toHaveLength(2);
    expect(denied[1]!.text).toContain('not there, write under ./out');
    expect(existsSync(join(outside, 'GOAL-DENY.txt'))).toBe(false);
    // Answering a task that no longer waits: the CLI's error.
    const again = await page.evaluate(async (id) => {
      const key = document.querySelector('meta[name="legate-page-key"]')!.getAttribute('content')!;
      const response = await fetch(`/api/tasks/${id}/approve`, { method: 'POST', headers: { 'x-legate-token': key } });
      return { status: response.status, body: await response.json() };
    }, other.id);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain(`not_waiting: task "${other.id}" is completed, not waiting for an approval`);
  });
});
