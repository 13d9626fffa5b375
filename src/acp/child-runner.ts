import { type ChildProcess, spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import * as acp from '@agentclientprotocol/sdk';
import type { AgentEvent, RunResult } from '../agent/events.js';
import type { AcpRouteSection } from '../config/schema.js';
import { childBrief } from '../delegation/child-prompt.js';
import { errorMessage } from '../errors.js';
import type { Message } from '../provider/types.js';
import { defaultSandboxMode } from '../sandbox/modes.js';
import type { RunControl, TaskRunner } from '../tasks/task-execution.js';
import { type TaskRecord, workingDirectory } from '../tasks/task-record.js';
import { legateVersion } from '../version.js';
import { childPermission, permissionAnswer } from './permission-rule.js';
import { UpdateTranslator } from './update-events.js';

/** How long an agent has to end after `session/cancel` (or after its last turn) before it is killed, ms. */
const defaultGraceMs = 3000;

/** The checkpoint message that records which ACP session a task's agent runs (for `session/load` on resume). */
const sessionMarker = 'acp session: ';

/**
 * Runs a task's child as an ACP agent subprocess (a route with `provider: acp`): it starts the
 * route's command in the task's working directory, sends goal and context as the first prompt and
 * turns the agent's `session/update`s into the task's output trail. The last turn's message is
 * the summary.
 *
 * - Steering: each steer message is sent as the agent's next prompt turn, after the current turn
 *   ends (a turn is never interrupted to steer).
 * - Cancel (the task's AbortSignal): `session/cancel`, then the process is ended after a grace
 *   period if it has not ended the turn and exited.
 * - Permission requests follow the task's sandbox mode (`childPermission`): what the mode allows
 *   a legate tool is allowed; the rest goes to approvals when they are on (the task parks
 *   `input_required` until a human answers) and is rejected otherwise. Each decision is a line of
 *   the task's output.
 * - Usage: ACP reports none, so the task's usage stays unknown (see `usageView`).
 * - Resume: the agent's ACP session id is checkpointed; a resumed task uses `session/load` when
 *   the agent supports it, and otherwise starts afresh with goal, context and the output so far.
 */
export class AcpChildRunner implements TaskRunner {
  constructor(
    private readonly routeName: string,
    private readonly route: AcpRouteSection,
    private readonly graceMs = defaultGraceMs,
  ) {}

  async run(task: TaskRecord, control: RunControl): Promise<RunResult> {
    const who = `ACP agent of route "${this.routeName}" (command "${this.route.command}")`;
    const result = (status: RunResult['status'], final: string, error?: string): RunResult => ({
      status,
      exitReason: status === 'completed' ? 'completed' : status === 'cancelled' ? 'cancelled' : 'error',
      final,
      ...(error !== undefined ? { error } : {}),
      messages: [],
      usage: { inputTokens: 0, outputTokens: 0 },
      apiCalls: 0,
    });
    if (control.signal.aborted) return result('cancelled', '');

    let stderrTail = '';
    let child: ChildProcess;
    try {
      child = spawn(this.route.command, this.route.args, {
        cwd: workingDirectory(task),
        env: agentEnvironment(this.route.env),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (error) {
      return result('failed', '', `acp_agent_failed: could not start the ${who}: ${errorMessage(error)}`);
    }
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderrTail = (stderrTail + chunk).slice(-1000)));
    let ended = false;
    const exited = new Promise<string>((resolveExit) => {
      child.once('error', (error) => resolveExit(`could not start it: ${errorMessage(error)}`));
      child.once('exit', (code, signal) => resolveExit(`it exited (${signal ?? `code ${code}`})`));
    }).finally(() => (ended = true));
    const exitError = (how: string): Error => new Error(`${how}${stderrTail.trim() ? `; stderr: ${stderrTail.trim()}` : ''}`);
    const crash = exited.then((how) => Promise.reject(exitError(how)));
    crash.catch(() => {}); // observed by `until` below; this only keeps it from being unhandled
    /** `work`, or the process's end, whichever comes first. */
    const guard = <T>(work: Promise<T>): Promise<T> => Promise.race([work, crash]);

    const emit = control.emit;
    const updates = new UpdateTranslator(emit);
    let muted = false;
    let permissions = 0;
    // Approvals (`agent.approval: on-request`): the task parks until a human answers.
    const gate = control.approvals;
    const app = acp
      .client({ name: 'legate' })
      .onNotification('session/update', ({ params }) => {
        if (!muted) updates.handle(params.update);
      })
      .onRequest('session/request_permission', async ({ params, signal }) => {
        const title = params.toolCall.title ?? params.toolCall.toolCallId;
        const callId = `permission-${++permissions}`;
        const decision = childPermission(params.toolCall, {
          route: this.routeName,
          mode: task.sandbox ?? defaultSandboxMode,
          cwd: workingDirectory(task),
          allowAll: this.route.allow_permissions,
        });
        emit({ type: 'tool.started', callId, name: 'permission', arguments: title });
        let allowed: boolean;
        let note: string;
        if (decision.verdict === 'allow') {
          allowed = true;
          note = `allowed: ${title} (${decision.why})`;
        } else if (gate) {
          const answer = await gate.request(
            { request: decision.request, mode: task.sandbox ?? defaultSandboxMode, reason: decision.reason },
            AbortSignal.any([signal, control.signal]),
          );
          allowed = answer.approved;
          note = answer.approved ? `allowed: ${title} (approved)` : `rejected: ${title} (${answer.reason})`;
        } else {
          allowed = false;
          note = `rejected: ${title} (${decision.reason}; approvals are off, and the route does not set allow_permissions)`;
        }
        emit({ type: 'tool.finished', callId, name: 'permission', content: note, isError: !allowed, durationMs: 0 });
        return { outcome: permissionAnswer(params.options, allowed).outcome };
      });
    const stream = acp.ndJsonStream(Writable.toWeb(child.stdin!) as WritableStream<Uint8Array>, Readable.toWeb(child.stdout!) as ReadableStream<Uint8Array>);
    const connection = app.connect(stream);
    const agent = connection.agent;

    let sessionId: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      if (sessionId) void agent.notify('session/cancel', { sessionId }).catch(() => {}); // the agent is already gone: the kill timer ends it
      killTimer = setTimeout(() => child.kill('SIGTERM'), this.graceMs);
    };
    control.signal.addEventListener('abort', onAbort, { once: true });

    let final = '';
    try {
      const init = await guard(
        agent.request('initialize', {
          protocolVersion: acp.PROTOCOL_VERSION,
          clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false },
          clientInfo: { name: 'legate', version: legateVersion },
        }),
      );
      const resumed = control.resumeFrom ? storedSession(control.resumeFrom) : undefined;
      let prompt: string;
      if (resumed && init.agentCapabilities?.loadSession) {
        // The agent replays the session as updates: they are in the trail already.
        muted = true;
        await guard(agent.request('session/load', { sessionId: resumed, cwd: workingDirectory(task), mcpServers: [] }));
        muted = false;
        sessionId = resumed;
        prompt = 'You were interrupted. Continue with the goal where you left off, then give your final summary.';
        note(emit, `resumed ACP session ${resumed} with session/load`);
      } else {
        sessionId = (await guard(agent.request('session/new', { cwd: workingDirectory(task), mcpServers: [] }))).sessionId;
        prompt = childBrief(task);
        if (control.resumeFrom) {
          const before = outputSoFar(control.resumeFrom);
          prompt += `\n\nA previous run of this task was interrupted. Its output so far:\n${before || '(none)'}`;
          note(
            emit,
            `resumed afresh in a new ACP session: ${resumed ? 'the agent does not support session/load' : 'no ACP session was recorded'}; ` +
              `goal, context and output so far sent again`,
          );
        }
      }
      emit({ type: 'step.completed', iteration: 0, messages: [{ role: 'assistant', content: `${sessionMarker}${sessionId}` }] });
      if (control.signal.aborted) onAbort();

      for (let turn = 1; ; turn++) {
        updates.nextTurn();
        emit({ type: 'model.started', iteration: turn, model: `acp:${this.routeName}` });
        const response = await guard(agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: prompt }] }));
        const usage = { inputTokens: 0, outputTokens: 0 };
        emit({ type: 'model.finished', iteration: turn, text: updates.text, toolCalls: updates.toolCalls, usage, stopReason: 'end_turn' });
        emit({
          type: 'step.completed',
          iteration: turn,
          messages: [
            { role: 'user', content: prompt },
            { role: 'assistant', content: updates.text },
          ],
        });
        if (updates.text.trim()) final = updates.text.trim();
        if (response.stopReason === 'cancelled' || control.signal.aborted) return result('cancelled', final);
        if (response.stopReason !== 'end_turn') return result('failed', final, `acp_agent_failed: the ${who} stopped its turn: ${response.stopReason}`);
        await control.persisted();
        const steers = await control.steering.pull();
        if (steers.length === 0) break;
        emit({ type: 'steer.delivered', messages: steers });
        prompt = steers.join('\n\n');
      }
      if (!final) return result('failed', '', `acp_agent_failed: the ${who} ended without a final message`);
      return result('completed', final);
    } catch (error) {
      if (control.signal.aborted) return result('cancelled', final);
      // The connection closes when the agent's stdout does, a moment before its exit is known.
      if (!(error instanceof acp.RequestError) && !ended) await Promise.race([exited, new Promise((resolveWait) => setTimeout(resolveWait, this.graceMs))]);
      const cause = ended && !(error instanceof acp.RequestError) ? exitError(await exited) : error;
      const detail = cause instanceof acp.RequestError ? `protocol error ${cause.code}: ${cause.message}` : errorMessage(cause);
      return result('failed', final, `acp_agent_failed: the ${who} failed: ${detail}`);
    } finally {
      control.signal.removeEventListener('abort', onAbort);
      await this.stop(child, exited, connection);
      clearTimeout(killTimer);
    }
  }

  /** End the agent: close its stdin (ACP agents exit on EOF); SIGTERM after the grace period, SIGKILL after another. */
  private async stop(child: ChildProcess, exited: Promise<string>, connection: acp.ClientConnection): Promise<void> {
    connection.close();
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    child.stdin?.end();
    const term = setTimeout(() => child.kill('SIGTERM'), this.graceMs);
    const kill = setTimeout(() => child.kill('SIGKILL'), 2 * this.graceMs);
    await exited;
    clearTimeout(term);
    clearTimeout(kill);
  }
}

/** Passed on to an agent from legate's environment (like an MCP server's); the route's `env` adds the rest (its API key). */
const inheritedVariables = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TERM', 'LANG', 'TMPDIR'];

/** A minimal environment plus the route's `env`: legate's own keys never reach a third-party agent unasked. */
function agentEnvironment(routeEnv: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of inheritedVariables) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...routeEnv };
}

/** A line in the task's output that is not the agent's (a resume note). */
function note(emit: (event: AgentEvent) => void, text: string): void {
  emit({ type: 'model.finished', iteration: 0, text: `(${text})`, toolCalls: 0, usage: { inputTokens: 0, outputTokens: 0 }, stopReason: 'end_turn' });
}

function storedSession(messages: readonly Message[]): string | undefined {
  const marker = messages.find((message) => message.role === 'assistant' && message.content.startsWith(sessionMarker));
  return marker?.content.slice(sessionMarker.length);
}

function outputSoFar(messages: readonly Message[]): string {
  return messages
    .filter((message) => message.role === 'assistant' && !message.content.startsWith(sessionMarker) && message.content.trim())
    .map((message) => message.content.trim())
    .join('\n\n');
}
