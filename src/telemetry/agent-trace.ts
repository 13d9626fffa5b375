import { type Context, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import type { AgentEvent, RunResult } from '../agent/events.js';
import type { StopReason, Usage } from '../provider/types.js';
import type { AgentSpanStart, AgentTrace, TraceAttributes } from './tracing.js';

/** What an agent's trace reports to the tracing that made it (its tool spans, for children and notes). */
export interface AgentTraceHooks {
  toolStarted(agentId: string, callId: string, span: Span): void;
  toolEnded(agentId: string, callId: string): void;
  ended(agentId: string): void;
  /** An event on another agent's span (a steered or collected task), when it runs here. */
  noteOn(agentId: string, name: string, attributes?: TraceAttributes): boolean;
}

/** The GenAI semantic conventions' finish reasons for legate's stop reasons. */
const finishReasons: Record<StopReason, string> = {
  end_turn: 'stop',
  tool_use: 'tool_calls',
  max_tokens: 'length',
  refusal: 'content_filter',
  pause_turn: 'pause_turn',
  context_full: 'length',
  other: 'other',
};

/** The delegation tools whose calls are events on the span of the task they name. */
const taskNotes: Record<string, string> = { collect_task: 'legate.task.collected', steer_task: 'legate.task.steered', cancel_task: 'legate.task.cancelled' };

/**
 * One agent run as spans after the GenAI semantic conventions: `invoke_agent {name}`, with a
 * `chat {model}` child per model call and an `execute_tool {tool}` child per tool call, made from
 * the run's events. Text (prompts, replies, tool arguments and results) only with `captureContent`.
 */
export class OtelAgentTrace implements AgentTrace {
  private readonly span: Span;
  private readonly context: Context;
  private chat: Span | undefined;
  /** The model of the call in flight (the reply names none: the response model is the one asked). */
  private chatModel = '';
  private readonly tools = new Map<string, Span>();
  private compactions = 0;
  private usage: Usage | undefined;
  private over = false;

  constructor(
    private readonly tracer: Tracer,
    parent: Context,
    private readonly start: AgentSpanStart,
    private readonly captureContent: boolean,
    private readonly hooks: AgentTraceHooks,
  ) {
    this.span = startSpan(
      tracer,
      `invoke_agent ${start.name}`,
      SpanKind.INTERNAL,
      clean({
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.provider.name': start.provider,
        'gen_ai.agent.name': start.name,
        'gen_ai.agent.id': start.agentId,
        'gen_ai.conversation.id': start.conversationId,
        'gen_ai.request.model': start.model,
        ...start.attributes,
        ...(captureContent && start.input !== undefined ? { 'gen_ai.input.messages': messagesJson('user', start.input) } : {}),
      }),
      parent,
    );
    this.context = trace.setSpan(parent, this.span);
  }

  observe(event: AgentEvent): void {
    if (this.over) return;
    try {
      this.apply(event);
    } catch {
      // A trace never breaks the run.
    }
  }

  note(name: string, attributes?: TraceAttributes): void {
    if (!this.over) this.span.addEvent(name, clean(attributes ?? {}));
  }

  end(result: RunResult | undefined, attributes?: TraceAttributes): void {
    if (this.over) return;
    this.over = true;
    try {
      const failure = result === undefined ? 'error' : result.status === 'completed' ? undefined : result.exitReason;
      if (this.chat) failed(this.chat, failure ?? 'incomplete');
      this.chat?.end();
      for (const span of this.tools.values()) {
        failed(span, failure ?? 'incomplete');
        span.end();
      }
      for (const callId of this.tools.keys()) this.hooks.toolEnded(this.start.agentId, callId);
      this.tools.clear();
      const usage = result?.usage ?? this.usage;
      this.span.setAttributes(
        clean({
          ...(usage ? usageAttributes(usage) : {}),
          'legate.exit_reason': result?.exitReason,
          'legate.api_calls': result?.apiCalls,
          'legate.compactions': this.compactions,
          ...attributes,
          ...(this.captureContent && result?.final ? { 'gen_ai.output.messages': messagesJson('assistant', result.final) } : {}),
        }),
      );
      if (failure) failed(this.span, failure);
      this.span.end();
    } finally {
      this.hooks.ended(this.start.agentId);
    }
  }

  private apply(event: AgentEvent): void {
    switch (event.type) {
      case 'model.started':
        this.chat?.end();
        this.chatModel = event.model;
        this.chat = startSpan(
          this.tracer,
          `chat ${event.model}`,
          SpanKind.CLIENT,
          {
            'gen_ai.operation.name': 'chat',
            'gen_ai.provider.name': this.start.provider,
            'gen_ai.request.model': event.model,
            'gen_ai.conversation.id': this.start.conversationId,
          },
          this.context,
        );
        return;
      case 'model.retry':
        this.chat?.addEvent('legate.model.retry', {
          'legate.retry.attempt': event.attempt,
          'legate.retry.delay_ms': event.delayMs,
          'legate.retry.reason': event.reason,
        });
        return;
      case 'model.finished': {
        const chat = this.chat;
        this.chat = undefined;
        if (!chat) return;
        chat.setAttributes({
          'gen_ai.response.model': this.chatModel,
          'gen_ai.response.finish_reasons': [finishReasons[event.stopReason]],
          ...usageAttributes(event.usage),
          ...(this.captureContent ? { 'gen_ai.output.messages': messagesJson('assistant', event.text, finishReasons[event.stopReason]) } : {}),
        });
        if (event.stopReason === 'max_tokens') chat.setAttribute('error.type', 'max_tokens');
        chat.end();
        return;
      }
      case 'usage':
        this.usage = event.total;
        return;
      case 'tool.started': {
        const span = startSpan(
          this.tracer,
          `execute_tool ${event.name}`,
          SpanKind.INTERNAL,
          {
            'gen_ai.operation.name': 'execute_tool',
            'gen_ai.tool.name': event.name,
            'gen_ai.tool.call.id': event.callId,
            'gen_ai.tool.type': 'function',
            ...(this.captureContent ? { 'gen_ai.tool.call.arguments': event.arguments } : {}),
          },
          this.context,
        );
        this.tools.set(event.callId, span);
        this.hooks.toolStarted(this.start.agentId, event.callId, span);
        const note = taskNotes[event.name];
        if (note) this.noteTasks(note, event.arguments, span);
        return;
      }
      case 'tool.finished': {
        const span = this.tools.get(event.callId);
        if (!span) return;
        this.tools.delete(event.callId);
        this.hooks.toolEnded(this.start.agentId, event.callId);
        if (this.captureContent) span.setAttribute('gen_ai.tool.call.result', event.content);
        if (event.isError) failed(span, toolErrorType(event.content));
        span.end();
        return;
      }
      case 'steer.delivered':
        this.span.addEvent('legate.steer.delivered', {
          'legate.steer.count': event.messages.length,
          ...(this.captureContent ? { 'legate.steer.messages': JSON.stringify(event.messages) } : {}),
        });
        return;
      case 'context.compacted':
        this.compactions = event.count;
        this.span.addEvent('legate.context.compacted', {
          'legate.compaction.how': event.how,
          'legate.compaction.tokens_before': event.tokensBefore,
          'legate.compaction.tokens_after': event.tokensAfter,
        });
        return;
      default:
        return;
    }
  }

  /** A collect (steer, cancel) of tasks: an event on each task's span where it runs here, else on the call's span. */
  private noteTasks(name: string, args: string, span: Span): void {
    for (const taskId of taskIdsIn(args)) {
      const attributes = { 'legate.task.id': taskId, 'legate.by': this.start.agentId };
      if (!this.hooks.noteOn(taskId, name, attributes)) span.addEvent(name, attributes);
    }
  }
}

/**
 * A span with its attributes set after the start: the SDK checks attributes given to `startSpan`
 * three times (for the sampler, again after it, and when setting them), set afterwards once. No
 * sampler legate offers reads them.
 */
function startSpan(tracer: Tracer, name: string, kind: SpanKind, attributes: Record<string, string | number | boolean>, parent: Context): Span {
  const span = tracer.startSpan(name, { kind }, parent);
  span.setAttributes(attributes);
  return span;
}

/** The task ids a delegation call's arguments name (`task_id`, `task_ids`). */
function taskIdsIn(args: string): string[] {
  try {
    const parsed = JSON.parse(args) as { task_id?: unknown; task_ids?: unknown };
    const ids = [parsed.task_id, ...(Array.isArray(parsed.task_ids) ? parsed.task_ids : [])];
    return ids.filter((id): id is string => typeof id === 'string');
  } catch {
    return [];
  }
}

/** The `code` a tool's error result starts with (`tool_failed: …`), else `tool_error`: never the text itself. */
function toolErrorType(content: string): string {
  return /^([a-z_]+):/.exec(content)?.[1] ?? 'tool_error';
}

function failed(span: Span, errorType: string): void {
  span.setAttribute('error.type', errorType);
  span.setStatus({ code: SpanStatusCode.ERROR });
}

/** Input tokens per the conventions include the cached ones (legate counts them apart). */
function usageAttributes(usage: Usage): Record<string, number> {
  const cacheRead = usage.cacheReadTokens ?? 0;
  const cacheWrite = usage.cacheWriteTokens ?? 0;
  return {
    'gen_ai.usage.input_tokens': usage.inputTokens + cacheRead + cacheWrite,
    'gen_ai.usage.output_tokens': usage.outputTokens,
    ...(cacheRead > 0 ? { 'gen_ai.usage.cache_read.input_tokens': cacheRead } : {}),
    ...(cacheWrite > 0 ? { 'gen_ai.usage.cache_creation.input_tokens': cacheWrite } : {}),
  };
}

function messagesJson(role: 'user' | 'assistant', text: string, finishReason?: string): string {
  return JSON.stringify([{ role, parts: [{ type: 'text', content: text }], ...(finishReason ? { finish_reason: finishReason } : {}) }]);
}

function clean(attributes: TraceAttributes): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined) out[key] = value;
  return out;
}
