import { type Context, type Span, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { TraceAttributes } from './tracing.js';

/** The delegation tools whose calls are events on the span of the task they name (a steer is noted from the store's record). */
const taskNotes: Record<string, string> = { collect_task: 'legate.task.collected', cancel_task: 'legate.task.cancelled' };

/** What an `execute_tool {tool}` span is started with. */
export interface ToolSpanStart {
  name: string;
  callId: string;
  /** The call's JSON arguments: on the span only with content capture; read for the task ids a collect or cancel names. */
  arguments: string;
  /** Who calls (`legate.by` on the task notes): the calling agent's id. */
  by: string;
  /** `SpanKind.SERVER` for a call received from an MCP client. */
  kind?: SpanKind;
  /** Attributes of the caller's (`gen_ai.conversation.id`). */
  attributes?: Record<string, string | number | boolean>;
}

/**
 * An `execute_tool {tool}` span under `parent`, with its task notes: a collect (cancel) is an
 * event on each named task's span where it runs in this process (`noteOn`), else on this span.
 */
export function startToolSpan(
  tracer: Tracer,
  start: ToolSpanStart,
  parent: Context,
  captureContent: boolean,
  noteOn: (agentId: string, name: string, attributes: TraceAttributes) => boolean,
): Span {
  const span = startSpan(
    tracer,
    `execute_tool ${start.name}`,
    start.kind ?? SpanKind.INTERNAL,
    {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': start.name,
      'gen_ai.tool.call.id': start.callId,
      'gen_ai.tool.type': 'function',
      ...start.attributes,
      ...(captureContent ? { 'gen_ai.tool.call.arguments': start.arguments } : {}),
    },
    parent,
  );
  const note = taskNotes[start.name];
  if (note) {
    for (const taskId of taskIdsIn(start.arguments)) {
      const attributes = { 'legate.task.id': taskId, 'legate.by': start.by };
      if (!noteOn(taskId, note, attributes)) span.addEvent(note, attributes);
    }
  }
  return span;
}

/** End a tool span with the call's result: an error result's `code` as `error.type`, never its text (unless captured). */
export function endToolSpan(span: Span, result: { content: string; isError: boolean }, captureContent: boolean): void {
  if (captureContent) span.setAttribute('gen_ai.tool.call.result', result.content);
  if (result.isError) failed(span, toolErrorType(result.content));
  span.end();
}

/**
 * A span with its attributes set after the start: the SDK checks attributes given to `startSpan`
 * three times (for the sampler, again after it, and when setting them), set afterwards once. No
 * sampler legate offers reads them.
 */
export function startSpan(tracer: Tracer, name: string, kind: SpanKind, attributes: Record<string, string | number | boolean>, parent: Context): Span {
  const span = tracer.startSpan(name, { kind }, parent);
  span.setAttributes(attributes);
  return span;
}

export function failed(span: Span, errorType: string): void {
  span.setAttribute('error.type', errorType);
  span.setStatus({ code: SpanStatusCode.ERROR });
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
