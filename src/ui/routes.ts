import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { reportsUsage } from '../acp/acp-routes.js';
import { raiseFromFlags } from '../budget/budget-raise.js';
import { formatIssues } from '../config/format-issues.js';
import { cancelTask, type Operation, steerTask } from '../delegation/operations.js';
import { operatorSession } from '../delegation/session.js';
import type { Prices } from '../delegation/usage-view.js';
import { errorMessage, LegateError } from '../errors.js';
import type { ApprovalAnswer } from '../sandbox/approval-gate.js';
import { isTaskStatus, taskStatuses } from '../tasks/status.js';
import type { SessionStore } from '../tasks/store/session-store.js';
import type { TaskRecord } from '../tasks/task-record.js';
import { operator, sessionCaller, type TaskService } from '../tasks/task-service.js';
import { taskDiff } from '../worktrees/task-worktrees.js';
import type { WorktreeManager } from '../worktrees/worktree-manager.js';
import { redactDeep } from './redaction.js';
import { conversationEntries, sessionRow, taskDetail, taskRow } from './task-views.js';
import type { ErrorBody, SessionDetail, TaskPage } from './view-types.js';
import type { WorkerDirectory } from './worker-directory.js';

/** What the API works with. */
export interface DashboardDeps {
  /** The task service of this LEGATE_HOME (the operator's view). */
  tasks: TaskService;
  /** The stored sessions of this LEGATE_HOME. */
  sessions: SessionStore;
  /** The directory `legate ui` was started in (operations run there, as the CLI's do). */
  cwd: string;
  prices: Prices;
  /** Configured API keys: masked in everything sent. */
  secrets: readonly string[];
  workers: WorkerDirectory;
  /** Children's git worktrees of this LEGATE_HOME: a task's diff (as `legate tasks diff`). */
  worktrees: WorktreeManager;
  /** Continue an interrupted or failed task in a process that can run it (as `legate tasks resume`). */
  resume(taskId: string): Promise<TaskRecord>;
  /** Answer a task's pending approval, as `legate tasks approve/deny` (`TaskService.answerApproval` with the answerer). */
  answerApproval(taskId: string, answer: ApprovalAnswer): Promise<TaskRecord>;
}

const pageLimit = 100;

/** The JSON API under /api: reads, and the actions (POST) with the CLI's semantics and errors. */
export function apiRoutes(deps: DashboardDeps): Hono {
  const api = new Hono();
  const send = <T>(value: T): T => redactDeep(value, deps.secrets);
  const session = () => operatorSession(deps.tasks, deps.cwd, { prices: deps.prices, reportsUsage });
  const run = async (operation: Operation, args: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const parsed = operation.parameters.safeParse(args);
    if (!parsed.success) throw new LegateError('invalid_arguments', formatIssues(parsed.error, args).join('; '));
    return operation.run(parsed.data, session(), { signal: new AbortController().signal });
  };

  api.onError((error, c) => {
    const code = error instanceof LegateError ? error.code : ((error as { code?: string }).code ?? 'internal');
    const body: ErrorBody = { error: { code: String(code), message: errorMessage(error) } };
    return c.json(send(body), statusFor(String(code)));
  });

  api.get('/tasks', async (c) => {
    const status = c.req.query('status') || undefined;
    if (status !== undefined && !isTaskStatus(status))
      throw new LegateError('invalid_arguments', `unknown status "${status}"; expected one of ${taskStatuses.join(', ')}`);
    const sessionId = c.req.query('session') || undefined;
    const cwd = c.req.query('cwd') || undefined;
    const offset = whole(c.req.query('offset'), 'offset', 0);
    const limit = Math.min(whole(c.req.query('limit'), 'limit', 50), pageLimit);
    const filter = { ...(status ? { status: [status] } : {}), ...(cwd ? { cwd } : {}) };
    const caller = sessionId ? sessionCaller(sessionId) : operator;
    const [rows, total] = await Promise.all([deps.tasks.list(caller, { ...filter, limit: offset + limit }), deps.tasks.count(caller, filter)]);
    const now = Date.now();
    const page: TaskPage = { tasks: rows.slice(offset).map((task) => taskRow(task, deps.prices, now)), total, offset, limit };
    return c.json(send(page));
  });

  api.get('/tasks/:id', async (c) => {
    const id = c.req.param('id');
    const { task, ...trail } = await deps.tasks.trail(operator, id);
    const conversation = await deps.tasks.checkpoint(operator, id).catch((error: unknown) => ({ error: errorMessage(error) }));
    return c.json(send(taskDetail(task, trail, conversation, deps.prices)));
  });

  // A task's changes in its worktree, as `legate tasks diff --json`; `worktree: null` for a task without one.
  api.get('/tasks/:id/diff', async (c) => {
    const task = await deps.tasks.get(operator, c.req.param('id'));
    if (!task.worktree) return c.json(send({ task_id: task.id, worktree: null, diff: '' }));
    return c.json(send(await taskDiff(deps.worktrees, task)));
  });

  api.post('/tasks/:id/steer', async (c) => {
    const body = await jsonBody(c.req.raw);
    return c.json(send(await run(steerTask, { task_id: c.req.param('id'), message: body.message })));
  });

  api.post('/tasks/:id/cancel', async (c) => c.json(send(await run(cancelTask, { task_id: c.req.param('id') }))));

  api.post('/tasks/:id/resume', async (c) => {
    const task = await deps.resume(c.req.param('id'));
    return c.json(send({ ok: true, task_id: task.id, status: task.status }));
  });

  const answer = (approved: boolean) => async (c: { req: { param(name: 'id'): string; raw: Request }; json(value: unknown): Response }) => {
    const body = await jsonBody(c.req.raw);
    if (body.reason !== undefined && typeof body.reason !== 'string')
      throw new LegateError('invalid_arguments', `reason must be text (got ${JSON.stringify(body.reason)})`);
    // As `legate tasks deny` without --reason.
    const reason = typeof body.reason === 'string' && body.reason.trim() ? body.reason.trim() : 'denied by the user';
    // A budget request: raised by {tokens, usd, seconds} when given, as `legate tasks approve --tokens …`.
    const raise = approved ? raiseFromFlags({ tokens: flag(body.tokens), usd: flag(body.usd), seconds: flag(body.seconds) }) : undefined;
    const task = await deps.answerApproval(c.req.param('id'), approved ? { approved: true, ...(raise ? { raise } : {}) } : { approved: false, reason });
    return c.json(send({ task_id: task.id, status: task.status, approval: task.approval }));
  };
  api.post('/tasks/:id/approve', answer(true));
  api.post('/tasks/:id/deny', answer(false));

  api.get('/sessions', async (c) => {
    const limit = Math.min(whole(c.req.query('limit'), 'limit', 50), pageLimit);
    const sessions = await deps.sessions.list({ limit });
    return c.json(send({ sessions: sessions.map(sessionRow) }));
  });

  api.get('/sessions/:id', async (c) => {
    const id = c.req.param('id');
    const stored = await deps.sessions.load(id);
    if (!stored) throw new LegateError('session_not_found', `no session "${id}" in this LEGATE_HOME`, { sessionId: id });
    const tasks = await deps.tasks.list(sessionCaller(id), { limit: 200 });
    const now = Date.now();
    const detail: SessionDetail = {
      session: sessionRow(stored),
      conversation: conversationEntries(stored.messages),
      tasks: tasks.map((task) => taskRow(task, deps.prices, now)),
    };
    return c.json(send(detail));
  });

  api.get('/workers', async (c) => c.json(send({ workers: await deps.workers.list() })));

  api.all('*', (c) => c.json({ error: { code: 'not_found', message: `no API route ${c.req.method} ${c.req.path}` } }, 404));
  return api;
}

/** A JSON object body, or `invalid_arguments`. */
/** A raise field of a request body (a number, or text from a form field; empty = not given). */
function flag(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return typeof value === 'number' || typeof value === 'string' ? String(value) : JSON.stringify(value);
}

async function jsonBody(request: Request): Promise<Record<string, unknown>> {
  const text = await request.text();
  try {
    const value: unknown = text ? JSON.parse(text) : {};
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new LegateError('invalid_arguments', `the request body must be a JSON object (got "${text.slice(0, 80)}")`);
}

/** A whole number >= 0 from the query, or `invalid_arguments` naming it. */
function whole(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new LegateError('invalid_arguments', `${name} must be a whole number >= 0 (got "${text}")`);
  return value;
}

function statusFor(code: string): ContentfulStatusCode {
  if (code === 'task_not_found' || code === 'session_not_found' || code === 'unknown_task' || code === 'no_worktree') return 404;
  if (code === 'invalid_arguments') return 400;
  if (['task_not_running', 'task_finished', 'illegal_transition', 'resume_limit', 'not_waiting', 'lease_lost', 'task_not_ended'].includes(code)) return 409;
  if (code.startsWith('config')) return 503;
  return 500;
}
