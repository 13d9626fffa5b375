import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { otlpFlags, spansByResourceAndScope } from './otlp-spans.js';

/**
 * An OTLP `ExportTraceServiceRequest` in the OTLP/JSON encoding: the proto's JSON mapping with
 * lowerCamelCase names, ids as hex, enums as integers and 64-bit integers as decimal strings.
 */
export function encodeTraceRequestJson(spans: readonly ReadableSpan[]): Uint8Array {
  const request = {
    resourceSpans: spansByResourceAndScope(spans).map((group) => ({
      resource: { attributes: keyValues(group.resource.attributes) },
      scopeSpans: group.scopes.map(({ scope, spans: list }) => ({
        scope: { name: scope.name, ...(scope.version ? { version: scope.version } : {}) },
        spans: list.map(jsonSpan),
        ...(scope.schemaUrl ? { schemaUrl: scope.schemaUrl } : {}),
      })),
      ...(group.resource.schemaUrl ? { schemaUrl: group.resource.schemaUrl } : {}),
    })),
  };
  return Buffer.from(JSON.stringify(request), 'utf8');
}

function jsonSpan(span: ReadableSpan): Record<string, unknown> {
  const context = span.spanContext();
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    ...(context.traceState ? { traceState: context.traceState.serialize() } : {}),
    ...(span.parentSpanContext?.spanId ? { parentSpanId: span.parentSpanContext.spanId } : {}),
    flags: otlpFlags(context.traceFlags, span.parentSpanContext?.isRemote),
    name: span.name,
    kind: span.kind + 1,
    startTimeUnixNano: nanos(span.startTime),
    endTimeUnixNano: nanos(span.endTime),
    attributes: keyValues(span.attributes),
    droppedAttributesCount: span.droppedAttributesCount,
    events: span.events.map((event) => ({
      timeUnixNano: nanos(event.time),
      name: event.name,
      attributes: keyValues(event.attributes ?? {}),
      droppedAttributesCount: event.droppedAttributesCount ?? 0,
    })),
    droppedEventsCount: span.droppedEventsCount,
    links: span.links.map((link) => ({
      traceId: link.context.traceId,
      spanId: link.context.spanId,
      ...(link.context.traceState ? { traceState: link.context.traceState.serialize() } : {}),
      attributes: keyValues(link.attributes ?? {}),
      droppedAttributesCount: link.droppedAttributesCount ?? 0,
      flags: otlpFlags(link.context.traceFlags, link.context.isRemote),
    })),
    droppedLinksCount: span.droppedLinksCount,
    status: { code: span.status.code, ...(span.status.message ? { message: span.status.message } : {}) },
  };
}

function keyValues(attributes: Attributes): { key: string; value: Record<string, unknown> }[] {
  const out: { key: string; value: Record<string, unknown> }[] = [];
  for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined && value !== null) out.push({ key, value: anyValue(value) });
  }
  return out;
}

function anyValue(value: AttributeValue | null | undefined): Record<string, unknown> {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  if (Array.isArray(value)) return { arrayValue: { values: value.map((item: AttributeValue | null | undefined) => anyValue(item)) } };
  return {};
}

/** An `HrTime` as decimal nanoseconds since the epoch. */
function nanos(time: HrTime): string {
  return time[0] === 0 ? String(time[1]) : `${time[0]}${String(time[1]).padStart(9, '0')}`;
}
