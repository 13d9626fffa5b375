import { type Context, ROOT_CONTEXT, type Span, SpanKind, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { errorMessage } from '../errors.js';
import { legateVersion } from '../version.js';
import { OtelAgentTrace } from './agent-trace.js';
import { WarningExporter } from './export-warning.js';
import { OtlpHttpExporter } from './otlp-exporter.js';
import { samplerFrom } from './sampler.js';
import type { TelemetrySettings } from './telemetry-settings.js';
import { endToolSpan, startToolSpan } from './tool-span.js';
import { formatTraceparent, parseTraceparent } from './traceparent.js';
import type { AgentSpanStart, AgentTrace, NoteOptions, ToolCallStart, ToolCallTrace, TraceAttributes, Tracing } from './tracing.js';

/** How long the exit waits for the last spans to be exported, at most (`Tracing.shutdown`). */
export const exitFlushMs = 1_000;

/**
 * Tracing with the OpenTelemetry SDK: spans batched (`settings.batch`) and exported over OTLP/HTTP
 * (protobuf or JSON) to `settings.url` by legate's own exporter (`OtlpHttpExporter`: an exit
 * bounded to `exitFlushMs`). Loaded only when tracing is on (`startTracing`). The tracer provider
 * is this object's own, not registered globally, so that nothing else in the process (an SDK's own
 * instrumentation) changes what is exported; contexts are passed explicitly (no context manager).
 */
export async function openOtelTracing(settings: TelemetrySettings, warn: (line: string) => void): Promise<Tracing> {
  const exporter = await OtlpHttpExporter.open({ url: settings.url, protocol: settings.protocol, headers: settings.headers, timeoutMs: settings.timeoutMs });
  const warning = new WarningExporter(exporter, settings.url, warn);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName, [ATTR_SERVICE_VERSION]: legateVersion }),
    sampler: samplerFrom(settings.sampler, warn),
    spanProcessors: [new BatchSpanProcessor(warning, settings.batch)],
  });
  return new OtelTracing(provider, exporter, warning, settings.captureContent, Math.min(exitFlushMs, settings.timeoutMs));
}

class OtelTracing implements Tracing {
  readonly enabled = true;
  private readonly tracer;
  /** The `execute_tool` spans running now, by agent and call id. */
  private readonly toolSpans = new Map<string, Span>();
  /** The agents running in this process, by agent id (a task's id). */
  private readonly agents = new Map<string, OtelAgentTrace>();
  private closed = false;

  constructor(
    private readonly provider: BasicTracerProvider,
    private readonly transport: OtlpHttpExporter,
    private readonly exporter: WarningExporter,
    private readonly captureContent: boolean,
    /** How long `shutdown` waits for the last export, at most: then every export in flight is given up. */
    private readonly flushDeadlineMs: number,
  ) {
    this.tracer = provider.getTracer('legate', legateVersion);
  }

  startAgent(start: AgentSpanStart): AgentTrace {
    const agent = new OtelAgentTrace(this.tracer, contextOf(start.traceparent), start, this.captureContent, {
      toolStarted: (agentId, callId, span) => this.toolSpans.set(toolKey(agentId, callId), span),
      toolEnded: (agentId, callId) => this.toolSpans.delete(toolKey(agentId, callId)),
      ended: (agentId) => {
        if (this.agents.get(agentId) === agent) this.agents.delete(agentId);
      },
      noteOn: (agentId, name, attributes) => this.noteOn(agentId, name, attributes),
    });
    this.agents.set(start.agentId, agent);
    return agent;
  }

  startToolCall(start: ToolCallStart): ToolCallTrace {
    const key = toolKey(start.agentId, start.callId);
    const span = startToolSpan(
      this.tracer,
      {
        name: start.name,
        callId: start.callId,
        arguments: start.arguments,
        by: start.agentId,
        kind: SpanKind.SERVER,
        attributes: { 'gen_ai.conversation.id': start.conversationId },
      },
      contextOf(start.traceparent),
      this.captureContent,
      (agentId, name, attributes) => this.noteOn(agentId, name, attributes),
    );
    this.toolSpans.set(key, span);
    let ended = false;
    return {
      end: (result) => {
        if (ended) return;
        ended = true;
        this.toolSpans.delete(key);
        endToolSpan(span, result, this.captureContent);
      },
    };
  }

  traceparentOf(agentId: string, callId: string): string | undefined {
    const span = this.toolSpans.get(toolKey(agentId, callId));
    return span ? formatTraceparent(span.spanContext()) : undefined;
  }

  noteOn(agentId: string, name: string, attributes?: TraceAttributes, options?: NoteOptions): boolean {
    const agent = this.agents.get(agentId);
    agent?.note(name, attributes, options);
    return agent !== undefined;
  }

  async flush(): Promise<void> {
    await this.provider.forceFlush().catch((error: unknown) => this.exporter.warnOnce(errorMessage(error)));
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.flushDeadlineMs);
    });
    const flushed = this.provider.shutdown().then(
      () => 'flushed' as const,
      (error: unknown) => {
        this.exporter.warnOnce(errorMessage(error));
        return 'flushed' as const;
      },
    );
    const outcome = await Promise.race([flushed, late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      // The collector is down or slow: what is left is dropped, and nothing keeps the process alive for it.
      const reason = `not exported within ${this.flushDeadlineMs / 1000} s at exit`;
      this.transport.abort(reason);
      this.exporter.warnOnce(reason);
    }
  }
}

/** The context a span continues: the remote span a `traceparent` names, else none (a new trace). */
function contextOf(traceparent: string | undefined): Context {
  const parent = parseTraceparent(traceparent);
  return parent ? trace.setSpanContext(ROOT_CONTEXT, { ...parent, isRemote: true }) : ROOT_CONTEXT;
}

function toolKey(agentId: string, callId: string): string {
  return `${agentId}\u0000${callId}`;
}
