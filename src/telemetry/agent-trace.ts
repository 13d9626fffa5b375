import { type Context, type Span, SpanKind, type Tracer, trace } from '@opentelemetry/api';
import type { AgentEvent, RunResult } from '../agent/events.js';
import type { StopReason, Usage } from '../provider/types.js';
import { endToolSpan, failed, startSpan, startToolSpan } from './tool-span.js';
import type { AgentSpanStart, AgentTrace, NoteOptions, TraceAttributes } from './tracing.js';

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
  /** The `once` keys of the notes made. */
  private readonly noted = new Set<string>();

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

  note(name: string, attributes?: TraceAttributes, options?: NoteOptions): void {
    if (this.over) return;
    if (options?.once !== undefined) {
      if (this.noted.has(options.once)) return;
      this.noted.add(options.once);
    }
    this.span.addEvent(name, clean(attributes ?? {}), options?.time);
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
        const span = startToolSpan(
          this.tracer,
          { name: event.name, callId: event.callId, arguments: event.arguments, by: this.start.agentId },
          this.context,
          this.captureContent,
          this.hooks.noteOn,
        );
        this.tools.set(event.callId, span);
        this.hooks.toolStarted(this.start.agentId, event.callId, span);
        return;
      }
      case 'tool.finished': {
        const span = this.tools.get(event.callId);
        if (!span) return;
        this.tools.delete(event.callId);
        this.hooks.toolEnded(this.start.agentId, event.callId);
        endToolSpan(span, event, this.captureContent);
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
