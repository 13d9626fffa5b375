import { setMaxListeners } from 'node:events';
import { errorMessage, LegateError } from '../errors.js';
import { reasoningText } from '../provider/reasoning-text.js';
import type { AssistantMessage, Message, ModelRequest, Provider, StopReason, ToolResultMessage, ToolSpec, Usage } from '../provider/types.js';
import { addUsage, emptyUsage } from '../provider/types.js';
import { executeToolCall } from '../tools/execute.js';
import type { Tool, ToolIO } from '../tools/tool.js';
import { toToolSpec } from '../tools/tool-spec.js';
import { conversationTokens, messageTokens } from './context/compaction-policy.js';
import { contextLengthError } from './context/context-length-error.js';
import type { PrepareContext } from './context/prepare-context.js';
import type { AgentEvent, ExitReason, RunResult } from './events.js';
import type { RunGuard } from './run-guard.js';
import { type SteeringSource, steeringTurn } from './steering.js';

export interface LoopOptions {
  provider: Provider;
  model: string;
  system: string;
  /** The conversation so far, ending with the new user message. Not mutated. */
  messages: readonly Message[];
  /**
   * The tools, or a function giving the current ones: asked before every model call, so a tool
   * list that changes mid-run (an MCP server's) takes effect at the next call. Return the same
   * array while nothing changed.
   */
  tools: readonly Tool[] | (() => readonly Tool[]);
  cwd: string;
  io: ToolIO;
  /** Model calls allowed in this run. */
  maxIterations: number;
  /** Output token limit per model call (absent: the provider's default for the model). */
  maxTokens?: number;
  /** Cancels the run: aborts the in-flight model call and tools. A `LegateError('timeout')` reason reads as a timeout. */
  signal: AbortSignal;
  steering?: SteeringSource;
  emit?: (event: AgentEvent) => void;
  /**
   * Resolves once the `step.completed` checkpoints emitted so far are stored. The loop waits for it
   * before running a reply's tools, so a crash mid-tool resumes knowing the reply and which of its
   * calls were in flight, and after a steering turn before the model call that carries it. (Before
   * each other model call the steering pull is the wait.) May reject (the run's store writes failed):
   * the loop then stops.
   */
  persisted?: () => Promise<void>;
  /**
   * On reaching `maxIterations`: one last model call with this user turn and no tool use allowed,
   * so the run's `final` says what was done (a child's summary). The run still ends `max_iterations`.
   */
  summaryAtLimit?: string;
  /** Before each model call: the messages to send (compaction). Absent: the whole conversation. */
  prepareContext?: PrepareContext;
  /** Asked before every model call and before running a reply's tool calls: a stop ends the run (a budget ran out). */
  guard?: RunGuard;
  /** The model's context window (tokens) as now known (undefined: unknown); given, the loop emits `context.used` events. */
  contextWindow?: () => number | undefined;
  /** Sent with every model call: reasoning effort, prompt caching, the cache key, the endpoint's rule overrides. */
  requestOptions?: RequestOptions;
}

/** The per-endpoint and per-task-tree parts of every model request of a run. */
export type RequestOptions = Pick<ModelRequest, 'reasoningEffort' | 'promptCache' | 'cacheKey' | 'rules'>;

/** Replies cut off at the output token limit in a row before the run fails with `max_tokens`. */
export const maxTruncatedReplies = 3;

/**
 * The agent loop: model call → run the tool calls (concurrently) → feed results back, until the
 * model answers without tool calls or `maxIterations` model calls were made. A reply cut off at the
 * output token limit is never an answer: its tool calls get error results (not run), the model is
 * asked again, and `maxTruncatedReplies` such replies in a row end the run with `max_tokens`.
 * Never throws: every outcome is a `RunResult`, also emitted as the `done` event.
 */
export async function runAgentLoop(options: LoopOptions): Promise<RunResult> {
  const { provider, signal, steering } = options;
  // Every tool call of a step (and each child a step delegates to) listens to this one signal: no cap.
  setMaxListeners(0, signal);
  const emit = options.emit ?? (() => {});
  const messages: Message[] = [...options.messages];
  const currentTools = typeof options.tools === 'function' ? options.tools : () => options.tools as readonly Tool[];
  let tools: readonly Tool[] | undefined;
  let toolsByName = new Map<string, Tool>();
  let toolSpecs: ToolSpec[] = [];
  let usage: Usage = emptyUsage();
  let apiCalls = 0;
  let lastText = '';
  let truncatedInARow = 0;
  const limit = options.maxTokens !== undefined ? `max_tokens ${options.maxTokens}` : 'max_tokens';
  let checkpointed = messages.length;
  const checkpoint = (iteration: number): void => {
    emit({ type: 'step.completed', iteration, messages: messages.slice(checkpointed) });
    checkpointed = messages.length;
  };

  const finish = (status: RunResult['status'], exitReason: ExitReason, error?: string): RunResult => {
    const result: RunResult = { status, exitReason, final: lastText, messages, usage, apiCalls };
    if (error !== undefined) result.error = error;
    emit({ type: 'done', result });
    return result;
  };
  const stopped = (): RunResult => {
    const reason: unknown = signal.reason;
    if (reason instanceof LegateError && reason.code === 'timeout') return finish('failed', 'timeout', reason.toString());
    if (reason instanceof LegateError && reason.code === 'budget_exceeded') return finish('failed', 'budget_exceeded', reason.toString());
    if (reason instanceof Error && reason.name === 'TimeoutError') return finish('failed', 'timeout', `timeout: ${reason.message}`);
    return finish('cancelled', 'cancelled', 'cancelled');
  };
  const guarded = async (): Promise<RunResult | undefined> => {
    const stop = options.guard ? await options.guard.check() : undefined;
    return stop ? finish('failed', stop.exitReason, stop.message) : undefined;
  };
  const deliverSteering = async (): Promise<boolean> => {
    const pending = steering ? await steering.pull() : [];
    if (pending.length === 0) return false;
    messages.push({ role: 'user', content: steeringTurn(pending) });
    emit({ type: 'steer.delivered', messages: pending });
    return true;
  };

  let compactions = 0;
  // Context in use: the last call's reported input and output, plus estimates of what came after.
  let contextTokens = 0;
  const contextUsed = (): void => {
    if (!options.contextWindow) return;
    const window = options.contextWindow();
    emit({ type: 'context.used', tokens: contextTokens, ...(window !== undefined && window < Number.MAX_SAFE_INTEGER ? { window } : {}), compactions });
  };
  const requestFor = (context: readonly Message[] = messages): ModelRequest => ({
    model: options.model,
    system: options.system,
    messages: [...context],
    tools: toolSpecs,
    ...(options.maxTokens ? { maxTokens: options.maxTokens } : {}),
    ...options.requestOptions,
  });
  /** A model call whose reply is only read (tool calls ignored): its text, or undefined when it failed. */
  const lastCall = async (request: ModelRequest, iteration: number): Promise<AssistantMessage | undefined> => {
    for await (const event of provider.stream(request, signal)) {
      if (event.type === 'text.delta') emit({ type: 'text.delta', text: event.text });
      else if (event.type === 'reasoning.delta') emit({ type: 'reasoning.delta', text: event.text });
      else if (event.type === 'retry') emit({ type: 'model.retry', attempt: event.attempt, delayMs: event.delayMs, reason: event.reason });
      else if (event.type === 'error') return undefined;
      else if (event.type === 'done') {
        apiCalls++;
        usage = addUsage(usage, event.usage);
        emit({
          type: 'model.finished',
          iteration,
          text: event.message.content,
          toolCalls: 0,
          usage: event.usage,
          stopReason: event.stopReason,
          ...thinkingOf(event.message),
        });
        emit({ type: 'usage', call: event.usage, total: usage });
        return { role: 'assistant', content: event.message.content, ...(event.message.reasoning ? { reasoning: event.message.reasoning } : {}) };
      }
    }
    return undefined;
  };

  try {
    for (let iteration = 1; ; iteration++) {
      if (signal.aborted) return stopped();
      if (await deliverSteering()) {
        // The steer is now marked delivered: store its turn before the call that carries it, so a
        // process that stops during the call resumes with it.
        checkpoint(iteration);
        if (options.persisted) await options.persisted();
        if (signal.aborted) return stopped();
      }
      if (iteration > options.maxIterations) {
        if (options.summaryAtLimit !== undefined) {
          messages.push({ role: 'user', content: options.summaryAtLimit });
          // The summary call goes through the context step too: a long run's whole history would not fit.
          const prepared = options.prepareContext ? await options.prepareContext(messages, signal) : { messages };
          if (signal.aborted) return stopped();
          if ('compaction' in prepared && prepared.compaction) {
            const { how, tokensBefore, tokensAfter } = prepared.compaction;
            emit({ type: 'context.compacted', how, tokensBefore, tokensAfter, count: ++compactions });
          }
          emit({ type: 'model.started', iteration, model: options.model });
          const last = 'overflow' in prepared ? undefined : await lastCall({ ...requestFor(prepared.messages), toolChoice: 'none' }, iteration);
          if (last) {
            messages.push(last);
            if (last.content.trim()) lastText = last.content.trim();
          }
          checkpoint(iteration);
          if (signal.aborted) return stopped();
        }
        return finish(
          'failed',
          'max_iterations',
          `stopped after ${options.maxIterations} model call${options.maxIterations === 1 ? '' : 's'} without a final answer (max_iterations)`,
        );
      }

      const refused = await guarded();
      if (refused) return refused;

      const offered = currentTools();
      if (offered !== tools) {
        tools = offered;
        toolsByName = new Map(offered.map((tool) => [tool.name, tool]));
        toolSpecs = offered.map(toToolSpec);
      }
      let rejected: string | undefined;
      let reply: Extract<Message, { role: 'assistant' }> | undefined;
      let stop: { stopReason: StopReason; rawStopReason: string; stopDetails?: string } | undefined;
      // A context-length error compacts and retries that call once (never the same request again).
      for (let attempt = 0; attempt < 2 && !reply; attempt++) {
        let context: readonly Message[] = messages;
        if (options.prepareContext) {
          const prepared = await options.prepareContext(messages, signal, rejected);
          if (signal.aborted) return stopped();
          if ('overflow' in prepared) return finish('failed', 'context_overflow', prepared.overflow);
          context = prepared.messages;
          if (prepared.compaction) {
            const { how, tokensBefore, tokensAfter } = prepared.compaction;
            emit({ type: 'context.compacted', how, tokensBefore, tokensAfter, count: ++compactions });
          }
        }
        emit({ type: 'model.started', iteration, model: options.model });
        const request = requestFor(context);
        for await (const event of provider.stream(request, signal)) {
          if (event.type === 'text.delta') emit({ type: 'text.delta', text: event.text });
          else if (event.type === 'reasoning.delta') emit({ type: 'reasoning.delta', text: event.text });
          else if (event.type === 'retry') {
            emit({
              type: 'model.retry',
              attempt: event.attempt,
              delayMs: event.delayMs,
              reason: event.reason,
              ...(event.discarded ? { discarded: true } : {}),
            });
          } else if (event.type === 'error') {
            if (event.failure.kind === 'aborted' || signal.aborted) return stopped();
            if (options.prepareContext && attempt === 0 && contextLengthError(event.failure.message)) {
              rejected = event.failure.message;
              break;
            }
            return finish('failed', 'error', event.failure.message);
          } else {
            reply = event.message;
            stop = event;
            apiCalls++;
            usage = addUsage(usage, event.usage);
            emit({
              type: 'model.finished',
              iteration,
              text: reply.content,
              toolCalls: reply.toolCalls?.length ?? 0,
              usage: event.usage,
              stopReason: event.stopReason,
              ...thinkingOf(reply),
            });
            emit({ type: 'usage', call: event.usage, total: usage });
            // A server that reports no usage: the estimate of what was sent and received.
            contextTokens = contextOfCall(event.usage) || conversationTokens(context) + messageTokens(reply);
            contextUsed();
            // Anthropic's `model_context_window_exceeded`: the context filled the window as the reply
            // was written. Like a context-length error: compact and make the call once more.
            if (event.stopReason === 'context_full' && options.prepareContext && attempt === 0) {
              rejected = `the model's context window is full (${event.rawStopReason})`;
              reply = undefined;
              stop = undefined;
            }
          }
        }
        if (!rejected || reply) break;
      }
      if (!reply) return finish('failed', 'error', rejected ?? 'the model stream ended without a reply');
      messages.push(reply);
      if (reply.content.trim()) lastText = reply.content.trim();
      // Checkpoint the reply before running its tools: a crash mid-tool then resumes without
      // repeating this model call, knowing which tool calls were in flight.
      checkpoint(iteration);

      if (stop?.stopReason === 'refusal') {
        return finish(
          'failed',
          'refusal',
          `the model refused (${stop.rawStopReason}): ${stop.stopDetails ?? (reply.content.trim() || 'no explanation given')}`,
        );
      }
      if (stop?.stopReason === 'context_full') {
        return finish(
          'failed',
          'context_overflow',
          `the model's context window is full (${stop.rawStopReason}): the conversation no longer fits; this is not the output limit, so raising max_tokens does not help`,
        );
      }
      // A paused turn (Anthropic `pause_turn`) goes back as it is: the model continues it.
      if (stop?.stopReason === 'pause_turn' && !(reply.toolCalls?.length ?? 0)) continue;

      if (stop?.stopReason === 'max_tokens') {
        truncatedInARow += 1;
        messages.push(...truncatedToolResults(reply, limit));
        if (truncatedInARow >= maxTruncatedReplies) {
          checkpoint(iteration);
          return finish(
            'failed',
            'max_tokens',
            `the model's reply was cut off at the output token limit (${limit}) ${truncatedInARow} times in a row; ` +
              `raise max_tokens in the config (model.max_tokens, delegation.max_tokens or the route's) or ask for a shorter answer`,
          );
        }
        messages.push({ role: 'user', content: truncatedNote(reply, limit) });
        checkpoint(iteration);
        continue;
      }
      truncatedInARow = 0;

      const calls = reply.toolCalls ?? [];
      if (calls.length > 0 && options.persisted) {
        await options.persisted();
        if (signal.aborted) return stopped();
      }
      if (calls.length === 0) {
        if (signal.aborted) return stopped();
        // A steer that arrived while the model wrote its answer still gets a turn.
        if (await deliverSteering()) {
          checkpoint(iteration);
          continue;
        }
        if (!reply.content.trim()) return finish('failed', 'error', 'the model returned an empty final answer');
        return finish('completed', 'completed');
      }

      const stoppedBeforeTools = await guarded();
      if (stoppedBeforeTools) return stoppedBeforeTools;
      const results = await Promise.all(
        calls.map(async (call): Promise<ToolResultMessage> => {
          emit({ type: 'tool.started', callId: call.id, name: call.name, arguments: call.arguments });
          const started = Date.now();
          const result = await executeToolCall(toolsByName, call, { cwd: options.cwd, signal, io: options.io });
          // Bytes a web tool fetched count in the run's usage (shown by `tasks show`), beside the tokens.
          if (result.fetchedBytes) usage = addUsage(usage, { inputTokens: 0, outputTokens: 0, fetchedBytes: result.fetchedBytes });
          emit({
            type: 'tool.finished',
            callId: call.id,
            name: call.name,
            content: result.content,
            isError: result.isError,
            durationMs: Date.now() - started,
            ...(result.fetchedBytes ? { fetchedBytes: result.fetchedBytes } : {}),
          });
          return { role: 'tool', toolCallId: call.id, name: call.name, content: result.content, ...(result.isError ? { isError: true } : {}) };
        }),
      );
      if (signal.aborted) return stopped();
      messages.push(...results);
      contextTokens += results.reduce((sum, result) => sum + messageTokens(result), 0);
      contextUsed();
      checkpoint(iteration);
    }
  } catch (error) {
    // Only a bug (or a throwing event consumer) gets here; still a result, never a throw.
    if (signal.aborted) return stopped();
    return finish('failed', 'error', `internal error: ${errorMessage(error)}`);
  }
}

/** The context a call used: everything it read (cached or not) and what it wrote, which the next call reads. */
function contextOfCall(usage: Usage): number {
  return usage.inputTokens + (usage.cacheReadTokens ?? 0) + (usage.cacheWriteTokens ?? 0) + usage.outputTokens;
}

/** The reply's reasoning as text for `model.finished` (redacted thinking as a marker), or nothing. */
function thinkingOf(message: AssistantMessage): { reasoning?: string } {
  const text = reasoningText(message);
  return text ? { reasoning: text } : {};
}

/** Error results for the tool calls of a cut-off reply: their arguments may be incomplete, so none is run. */
function truncatedToolResults(reply: AssistantMessage, limit: string): ToolResultMessage[] {
  return (reply.toolCalls ?? []).map((call) => ({
    role: 'tool',
    toolCallId: call.id,
    name: call.name,
    content:
      `not run: your reply was cut off at the output token limit (${limit}) ` +
      `while it was being written, so the arguments of this ${call.name} call may be incomplete`,
    isError: true,
  }));
}

/** The turn that asks the model again after a cut-off reply. */
function truncatedNote(reply: AssistantMessage, limit: string): string {
  const what = reply.toolCalls?.length
    ? 'None of its tool calls was run. Make them again with smaller arguments (split large file content into several calls).'
    : 'It was not delivered as your answer. Give your complete answer again, more concisely, or write long content to files in several smaller steps.';
  return `[Your previous reply was cut off at the output token limit (${limit}).] ${what}`;
}
