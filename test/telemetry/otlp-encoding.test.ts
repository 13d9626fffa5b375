import { createRequire } from 'node:module';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { encodeTraceRequestJson } from '../../src/telemetry/otlp-json.js';
import { encodeTraceRequest } from '../../src/telemetry/otlp-protobuf.js';

/** legate's OTLP encoders, read back with the OpenTelemetry proto definitions (protobuf) and JSON.parse. */

const require = createRequire(import.meta.url);
const proto = require('otlp-proto-decoder/build/src/generated/root.js');
const Request = proto.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

function spans(): ReadableSpan[] {
  const ended: ReadableSpan[] = [];
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'enc' }),
    spanProcessors: [
      new SimpleSpanProcessor({
        export: (list, done) => {
          ended.push(...list);
          done({ code: 0 });
        },
        shutdown: async () => {},
      }),
    ],
  });
  const tracer = provider.getTracer('legate', '9.9');
  const parent = tracer.startSpan('invoke_agent legate', { kind: SpanKind.INTERNAL });
  const child = tracer.startSpan(
    'chat m',
    {
      kind: SpanKind.CLIENT,
      attributes: { text: 'é'.repeat(200), short: 'ok', count: 300, negative: -5, ratio: 0.25, yes: true, list: ['stop', 'length'] },
      links: [{ context: parent.spanContext(), attributes: { why: 'link' } }],
    },
    trace.setSpan(ROOT_CONTEXT, parent),
  );
  child.addEvent('legate.model.retry', { 'legate.retry.attempt': 2 });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'cut' });
  child.end();
  parent.end();
  return ended;
}

describe('OTLP encoding', () => {
  it('protobuf: every field as the proto definitions decode it', () => {
    const list = spans();
    const decoded = Request.toObject(Request.decode(encodeTraceRequest(list)), { longs: String, bytes: String });
    const [resourceSpans] = decoded.resourceSpans;
    expect(resourceSpans.resource.attributes.find((kv: { key: string }) => kv.key === 'service.name').value).toEqual({ stringValue: 'enc' });
    expect(resourceSpans.scopeSpans[0].scope).toEqual({ name: 'legate', version: '9.9' });
    const [chat, agent] = resourceSpans.scopeSpans[0].spans;
    const hex = (base64: string): string => Buffer.from(base64, 'base64').toString('hex');
    expect(hex(chat.traceId)).toBe(list[0]!.spanContext().traceId);
    expect(hex(chat.parentSpanId)).toBe(list[1]!.spanContext().spanId);
    expect(agent.parentSpanId).toBeUndefined();
    expect(chat).toMatchObject({ name: 'chat m', kind: 3, status: { code: 2, message: 'cut' }, flags: 0x101 });
    expect(chat.startTimeUnixNano).toBe(nanos(list[0]!.startTime));
    expect(chat.attributes).toEqual([
      { key: 'text', value: { stringValue: 'é'.repeat(200) } },
      { key: 'short', value: { stringValue: 'ok' } },
      { key: 'count', value: { intValue: '300' } },
      { key: 'negative', value: { intValue: '-5' } },
      { key: 'ratio', value: { doubleValue: 0.25 } },
      { key: 'yes', value: { boolValue: true } },
      { key: 'list', value: { arrayValue: { values: [{ stringValue: 'stop' }, { stringValue: 'length' }] } } },
    ]);
    expect(chat.events[0]).toMatchObject({ name: 'legate.model.retry', attributes: [{ key: 'legate.retry.attempt', value: { intValue: '2' } }] });
    expect(hex(chat.links[0].spanId)).toBe(list[1]!.spanContext().spanId);
    expect(agent.kind).toBe(1);
  });

  it('JSON: hex ids, integer enums, nanoseconds as strings', () => {
    const list = spans();
    const decoded = JSON.parse(Buffer.from(encodeTraceRequestJson(list)).toString('utf8'));
    const [chat, agent] = decoded.resourceSpans[0].scopeSpans[0].spans;
    expect(chat).toMatchObject({ traceId: list[0]!.spanContext().traceId, parentSpanId: agent.spanId, kind: 3, status: { code: 2, message: 'cut' } });
    expect(chat.startTimeUnixNano).toBe(nanos(list[0]!.startTime));
    expect(chat.attributes.find((kv: { key: string }) => kv.key === 'negative').value).toEqual({ intValue: '-5' });
    expect(chat.events[0].name).toBe('legate.model.retry');
  });
});

function nanos([seconds, rest]: [number, number]): string {
  return (BigInt(seconds) * 1_000_000_000n + BigInt(rest)).toString();
}
