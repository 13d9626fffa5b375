import type * as acp from '@agentclientprotocol/sdk';
import { errorMessage } from '../errors.js';
import type { Session } from '../session.js';
import type { EditorApprovals } from './editor-approvals.js';
import { ParkedTaskQuestions } from './parked-tasks.js';
import { SessionUpdates, taskUpdate } from './session-updates.js';

/** How often the store is read for this session's tasks that end in another process (a worker), ms; as in chat. */
const pollMs = 1000;

/** Sends one session's updates to the client, in order. */
export type UpdateSink = (update: acp.SessionUpdate) => Promise<void>;

/**
 * One legate `Session` served to an ACP client, as `chat` serves one to a terminal: prompts run one
 * at a time, in order; the agent's events stream as `session/update`s; `cancel` stops the running
 * turn (background tasks keep running); a background task of the session shows as a tool call from
 * its start to its end, and its completion notice starts a new turn whose input (the notice) the
 * client sees as a user message. The session's own calls that need approval go to the editor
 * (`approvals`), and a cancelled turn withdraws its pending question; so do the requests of its
 * parked background tasks (`ParkedTaskQuestions`), whose answers go to `answerApproval`.
 */
export class ServedSession {
  private readonly updates: SessionUpdates;
  private chain: Promise<unknown> = Promise.resolve();
  /** Updates issued so far have been written once this settles. */
  private sent: Promise<void> = Promise.resolve();
  private current: AbortController | undefined;
  private noticesQueued = false;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(
    readonly session: Session,
    private readonly sink: UpdateSink,
    private readonly log: (line: string) => void,
    private readonly approvals?: EditorApprovals,
    client?: () => acp.AgentContext | undefined,
  ) {
    this.updates = new SessionUpdates(session.runtime.cwd);
    const parked =
      approvals && client ? new ParkedTaskQuestions(session.id, session.runtime.tasks, client, approvals, (update) => this.send(update), log) : undefined;
    const offAgent = session.agent.subscribe((event) => {
      approvals?.observe(event);
      const update = this.updates.forEvent(event);
      if (update) this.send(update);
    });
    const offTasks = session.runtime.tasks.subscribe((event) => {
      if (event.type !== 'task.spawned' && event.type !== 'task.ended' && event.type !== 'task.input_required') return;
      if (event.task.sessionId !== session.id) return;
      if (event.type === 'task.input_required') {
        // The editor is asked; the agent hears of it too, as in chat.
        parked?.parked(event.task);
        this.requestNotices();
        return;
      }
      this.send(taskUpdate(event.task, event.type === 'task.spawned' ? 'spawned' : 'ended'));
      if (event.type === 'task.ended') this.requestNotices();
    });
    // A task that ends or parks in another process (legate worker, tasks resume) tells this one
    // nothing; a request answered elsewhere is withdrawn from the editor.
    let polling = false;
    const poll = async (): Promise<void> => {
      const tasks = await session.runtime.tasks.list(session.id);
      parked?.reconcile(tasks);
      if ((await session.runtime.tasks.unreported(session.id)).length > 0) this.requestNotices();
    };
    const poller = setInterval(() => {
      if (polling || this.closed) return;
      polling = true;
      poll()
        .catch(() => {}) // one failed poll is retried on the next tick
        .finally(() => (polling = false));
    }, pollMs);
    poller.unref();
    this.unsubscribe = () => {
      clearInterval(poller);
      parked?.close();
      offAgent();
      offTasks();
    };
  }

  get id(): string {
    return this.session.id;
  }

  /** Replay the stored conversation (for `session/load`). */
  async replay(): Promise<void> {
    for (const update of this.updates.forMessages(this.session.agent.messages)) this.send(update);
    await this.sent;
  }

  /** Run one prompt turn after those before it; resolves with its stop reason once its updates are sent. */
  prompt(text: string): Promise<acp.StopReason> {
    return this.enqueue(() => this.turn(text));
  }

  /** `session/cancel`: stop the running turn. Background tasks keep running. */
  cancel(): void {
    this.current?.abort();
  }

  /** Tasks that ended while the session was not served: their notices arrive now, once. */
  requestNotices(): void {
    if (this.noticesQueued || this.closed) return;
    this.noticesQueued = true;
    void this.enqueue(async () => {
      this.noticesQueued = false;
      if (this.closed) return;
      const notices = await this.session.pendingNotices();
      if (!notices) return;
      this.send({ sessionUpdate: 'user_message_chunk', content: { type: 'text', text: notices.text } });
      try {
        await this.turn(notices.text);
      } finally {
        await this.session.markReported(notices.taskIds);
      }
    }).catch((error: unknown) => this.log(`notice turn of session ${this.id} failed: ${errorMessage(error)}`));
  }

  close(): void {
    this.closed = true;
    this.cancel();
    this.unsubscribe();
  }

  private async turn(text: string): Promise<acp.StopReason> {
    const controller = new AbortController();
    this.current = controller;
    if (this.approvals) this.approvals.turnSignal = controller.signal;
    try {
      const result = await this.session.turn(text, controller.signal);
      await this.sent;
      if (controller.signal.aborted) return 'cancelled';
      if (result.status === 'completed') return 'end_turn';
      if (result.exitReason === 'max_iterations') return 'max_turn_requests';
      // The error is part of the answer the user reads.
      this.send({ sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: `\n\n[turn ${result.status}: ${result.error ?? result.exitReason}]` } });
      await this.sent;
      return 'end_turn';
    } finally {
      if (this.current === controller) this.current = undefined;
    }
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work);
    this.chain = run.catch(() => {}); // the next turn waits for this one to end, not for its outcome (the caller gets it)
    return run;
  }

  private send(update: acp.SessionUpdate): void {
    this.sent = this.sent.then(() => this.sink(update)).catch((error: unknown) => this.log(`could not send an update: ${errorMessage(error)}`));
  }
}
