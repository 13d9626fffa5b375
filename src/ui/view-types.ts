/**
 * The JSON the dashboard's API and event stream send, shared (as types only) by the server and the
 * page. Every string in it has the configured keys masked; the page renders it as text.
 */

/** One row of the tasks table (also the payload of a `task` event). */
export interface TaskRow {
  id: string;
  status: string;
  goal: string;
  /** The model, with the route in front when one was picked (`fast: gpt-x`). */
  model: string;
  sessionId: string;
  cwd: string;
  /** The process holding it (a worker's or a CLI's owner id), when one does. */
  owner?: string;
  createdAt: number;
  elapsedSeconds: number;
  apiCalls: number;
  tokens: number;
  /** USD, when the config has a price for the model. */
  costUsd?: number;
  currentTool?: string;
  outputLines: number;
  /** Tokens of the task and all its descendants (the store's budget counters). */
  treeTokens: number;
  /** Its budget: the limit in force, what its tree spent, what is left (`raised_by` after an approved raise). */
  budget?: { limit: Record<string, number>; spent: Record<string, number>; remaining: Record<string, number>; raised_by?: Record<string, number> };
}

/** A page of the tasks table, newest first. */
export interface TaskPage {
  tasks: TaskRow[];
  total: number;
  offset: number;
  limit: number;
}

export interface SteerView {
  id: number;
  message: string;
  state: 'queued' | 'delivered' | 'missed';
  createdAt: number;
  settledAt?: number;
}

/** A conversation entry: a message, a tool call, or a tool's result. */
export type ConversationEntry =
  | { kind: 'message'; role: 'user' | 'assistant'; text: string }
  /** An assistant reply's reasoning (thinking), shown apart from its answer. */
  | { kind: 'thinking'; text: string }
  | { kind: 'tool_call'; id: string; name: string; arguments: string }
  | { kind: 'tool_result'; toolCallId: string; name: string; text: string; isError: boolean };

export interface ApprovalView {
  id: string;
  kind: string;
  subject: string;
  mode: string;
  reason: string;
  requestedAt: number;
  /** The answer, once given (the task goes on shortly). */
  answer?: { approved: boolean; reason?: string; by?: string; answeredAt: number };
}

/** Everything the task page shows. */
export interface TaskDetail {
  task: TaskRow & {
    route?: string;
    depth: number;
    mode: string;
    sandbox?: string;
    startedAt?: number;
    endedAt?: number;
    exitReason?: string;
    cancelledBy?: string;
    summary?: string;
    error?: string;
    lastActivity?: string;
    /** "context 61% of 200k, compacted 2×" (model-backed tasks that made a call). */
    context?: string;
    usage: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number; reasoningTokens: number; cacheHitShare: number };
    approval?: ApprovalView;
  };
  output: string[];
  steers: SteerView[];
  conversation: ConversationEntry[];
  /** Why the conversation could not be read (a damaged checkpoint), if it could not. */
  conversationError?: string;
}

export interface SessionRow {
  id: string;
  cwd: string;
  createdAt: number;
  updatedAt: number;
  messages: number;
  /** The first user message, cut to 120 characters. */
  title: string;
}

export interface SessionDetail {
  session: SessionRow;
  conversation: ConversationEntry[];
  tasks: TaskRow[];
}

export interface WorkerView {
  id: string;
  host: string;
  /** Tasks it may run at once, when the worker told the store. */
  concurrency?: number;
  /** Ids of the running tasks it holds. */
  tasks: string[];
  /** Epoch ms of its last heartbeat (as far as the store tells). */
  lastHeartbeat?: number;
  dead: boolean;
}

/** The API's error body (status 4xx/5xx). */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** `GET /api/tasks/:id/diff`: a worktree child's changes, as `legate tasks diff --json`; `worktree: null` for a task without one. */
export interface TaskDiffView {
  task_id: string;
  worktree: {
    branch: string;
    path: string;
    base: string;
    changed_files: string[];
    insertions: number;
    deletions: number;
    /** Why there is no branch (the task changed nothing, or was pruned). */
    removed?: string;
  } | null;
  diff: string;
  /** Set when the worktree holds uncommitted work (running, stopped or cancelled): the diff is that work against the base. */
  note?: string;
}
