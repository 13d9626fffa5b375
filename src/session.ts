import { Agent } from './agent/agent.js';
import type { RunResult } from './agent/events.js';
import { type Budget, budgetFrom } from './budget/budget.js';
import { approvalNotice, completionNotice } from './delegation/views.js';
import { LegateError } from './errors.js';
import { addUsage, emptyUsage, type Usage } from './provider/types.js';
import type { Runtime } from './runtime.js';
import { findSession } from './tasks/store/session-store.js';
import type { SessionRecord, StoredCompaction } from './tasks/task-record.js';
import { newSessionId } from './tasks/task-service.js';
import type { ToolIO } from './tools/tool.js';

export interface SessionOptions {
  /** The top-level agent's IO (default: the runtime's); `Runtime.sessionIO` builds one with its own seams. */
  io?: ToolIO;
  /** The session's budget (its agent and every task below it); default `agent.budget`. */
  budget?: Budget;
}

/**
 * A user's session with the top-level agent: its conversation, its tasks, and the completion
 * notices of tasks that ended while the agent was idle.
 */
export class Session {
  readonly id: string;
  readonly agent: Agent;
  /** Tokens of the top-level agent across turns (children's are on their tasks). */
  usage: Usage = emptyUsage();
  /** Model calls of the top-level agent across turns (a run's notice rounds included). */
  apiCalls = 0;

  /** The conversation's latest compaction (saved with it). */
  private compaction: StoredCompaction | undefined;
  /** Usage of the turn in flight (its loop's running total), for the session's budget. */
  private turnUsage: Usage = emptyUsage();
  private readonly createdAt: number;
  /** Approval requests named in the notices of `pendingNotices`, by task: what `markReported` marks told. */
  private readonly noticedRequests = new Map<string, string>();

  constructor(
    readonly runtime: Runtime,
    id: string = newSessionId(),
    stored?: SessionRecord,
    options: SessionOptions = {},
  ) {
    this.id = id;
    this.compaction = stored?.compaction;
    // The context continues from the stored session's latest compaction; each new one is saved with the conversation.
    const setup = runtime.agent(id, {
      ...(stored?.compaction ? { compaction: stored.compaction } : {}),
      onCompaction: (record) => {
        this.compaction = record;
      },
    });
    this.agent = new Agent(setup, { cwd: runtime.cwd, io: options.io ?? runtime.io });
    const budget = options.budget ?? budgetFrom(runtime.config.agent.budget);
    if (budget) {
      // The turn in flight counts too: its usage so far, from the loop's usage events.
      this.agent.subscribe((event) => {
        if (event.type === 'usage') this.turnUsage = event.total;
      });
      runtime.budgets.openRoot(id, budget, setup.model, () => addUsage(this.usage, this.turnUsage));
    }
    this.createdAt = stored?.createdAt ?? Date.now();
    if (stored) this.agent.messages = stored.messages;
  }

  /**
   * Continue a stored session: `id`, or the most recent one in this working directory. Throws
   * naming the id when there is none.
   */
  static async resume(runtime: Runtime, id?: string, options: SessionOptions = {}): Promise<Session> {
    const stored = await findSession(runtime.sessions, id ? { id } : { cwd: runtime.cwd });
    if (!stored) {
      throw new LegateError(
        'session_not_found',
        id ? `no session "${id}" in this LEGATE_HOME` : `no stored session for ${runtime.cwd}; start one with legate chat`,
      );
    }
    return new Session(runtime, stored.id, stored, options);
  }

  /**
   * One turn of the top-level agent; the conversation is stored after it. A prompt over
   * `agent.max_prompt_bytes` is refused (`invalid_arguments`, naming the size, the limit and the setting).
   */
  async turn(text: string, signal?: AbortSignal): Promise<RunResult> {
    const limit = this.runtime.config.agent.max_prompt_bytes;
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > limit) {
      throw new LegateError(
        'invalid_arguments',
        `the prompt is ${bytes} bytes, over the limit of ${limit} bytes (agent.max_prompt_bytes in ${this.runtime.configFile ?? 'config.yaml'}); ` +
          'shorten it (point the agent at a file instead of pasting it) or raise the limit',
        { bytes, limit },
      );
    }
    this.turnUsage = emptyUsage();
    // One trace per turn: its invoke_agent span, fed the turn's events.
    const trace = this.runtime.tracing.startAgent({
      name: 'legate',
      agentId: this.id,
      conversationId: this.id,
      provider: this.runtime.endpoints.parent.provider,
      model: this.runtime.endpoints.parent.model,
      attributes: { 'legate.task.depth': 0 },
      input: text,
    });
    const unsubscribe = this.agent.subscribe((event) => trace.observe(event));
    let result: RunResult | undefined;
    try {
      result = await this.agent.prompt(text, signal);
    } finally {
      unsubscribe();
      trace.end(result, { 'legate.task.status': result?.status });
    }
    this.usage = addUsage(this.usage, result.usage);
    this.turnUsage = emptyUsage();
    this.apiCalls += result.apiCalls;
    await this.runtime.sessions.save({
      id: this.id,
      cwd: this.runtime.cwd,
      createdAt: this.createdAt,
      updatedAt: Date.now(),
      messages: this.agent.messages,
      ...(this.compaction ? { compaction: this.compaction } : {}),
    });
    return result;
  }

  /**
   * Ended background tasks whose result the agent has not seen, as one self-contained turn, or
   * undefined when there are none. Marks them reported: each notice is delivered once.
   */
  async takeNotices(): Promise<string | undefined> {
    const pending = await this.pendingNotices();
    if (!pending) return undefined;
    await this.markReported(pending.taskIds);
    return pending.text;
  }

  /**
   * Like `takeNotices`, without marking: the caller marks `taskIds` reported once the notice is in
   * the stored conversation (a crash before that delivers it again rather than never).
   */
  async pendingNotices(): Promise<{ text: string; taskIds: string[] } | undefined> {
    const tasks = await this.runtime.tasks.unreported(this.id);
    if (tasks.length === 0) return undefined;
    const waiting = tasks.filter((task) => task.status === 'input_required').length;
    const ended = tasks.length - waiting;
    const parts = [
      ...(ended === 0 ? [] : [ended === 1 ? 'A background task you started has ended.' : `${ended} background tasks you started have ended.`]),
      ...(waiting === 0
        ? []
        : [waiting === 1 ? 'A background task you started is waiting for approval.' : `${waiting} background tasks you started are waiting for approval.`]),
    ];
    for (const task of tasks) if (task.status === 'input_required' && task.approval) this.noticedRequests.set(task.id, task.approval.id);
    const blocks = tasks.map((task) =>
      task.status === 'input_required' ? approvalNotice(task) : completionNotice(task, this.runtime.config.delegation.max_summary_chars),
    );
    return { text: `${parts.join(' ')}\n\n${blocks.join('\n\n')}`, taskIds: tasks.map((task) => task.id) };
  }

  async markReported(taskIds: string[]): Promise<void> {
    for (const taskId of taskIds) {
      // A waiting task's notice told of its request, not of its end (which may have come since).
      const request = this.noticedRequests.get(taskId);
      this.noticedRequests.delete(taskId);
      await this.runtime.tasks.markReported(this.id, taskId, request);
    }
  }

  /** Tasks of this session that have not ended yet. */
  async openTasks(): Promise<number> {
    const tasks = await this.runtime.tasks.list(this.id);
    return tasks.filter((task) => task.status === 'queued' || task.status === 'running' || task.status === 'input_required').length;
  }
}
