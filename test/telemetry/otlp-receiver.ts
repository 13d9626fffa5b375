import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

/**
 * A local OTLP/HTTP trace receiver for the tests: POST /v1/traces in `http/protobuf` (decoded with
 * the OpenTelemetry proto definitions) or `http/json`, every span kept in `spans`, every raw body in
 * `bodies` (to search for what must never be exported).
 */

const require = createRequire(import.meta.url);
// The generated OTLP protobuf definitions of @opentelemetry/otlp-transformer (a release that ships them).
const proto = require('otlp-proto-decoder/build/src/generated/root.js') as {
  opentelemetry: {
    proto: {
      collector: { trace: { v1: { ExportTraceServiceRequest: { decode(bytes: Uint8Array): unknown; toObject(message: unknown, options: object): unknown } } } };
    };
  };
};
const ExportTraceServiceRequest = proto.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown>; timeMs: number }[];
  startMs: number;
  endMs: number;
  /** 2: error. */
  statusCode: number;
  serviceName: string;
}

export interface OtlpReceiver {
  /** The base URL (OTEL_EXPORTER_OTLP_ENDPOINT). */
  url: string;
  spans: ReceivedSpan[];
  bodies: { contentType: string; text: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const bodies: OtlpReceiver['bodies'] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const contentType = request.headers['content-type'] ?? '';
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      try {
        const json = contentType.includes('json');
        const message = json
          ? JSON.parse(body.toString('utf8'))
          : ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), { longs: Number, bytes: String });
        spans.push(...spansOf(message as ExportRequest, json));
        bodies.push({ contentType, text: body.toString('latin1'), headers: request.headers });
        response.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
      } catch (error) {
        response.writeHead(400).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    bodies,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface KeyValue {
  key: string;
  value: AnyValue;
}
interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}
interface ExportRequest {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind?: number;
        attributes?: KeyValue[];
        events?: { name: string; attributes?: KeyValue[]; timeUnixNano?: number | string }[];
        startTimeUnixNano?: number | string;
        endTimeUnixNano?: number | string;
        status?: { code?: number };
      }[];
    }[];
  }[];
}

function spansOf(request: ExportRequest, json: boolean): ReceivedSpan[] {
  // Ids are hex in OTLP/JSON, base64 bytes once decoded from protobuf.
  const id = (value: string | undefined): string => (!value ? '' : json ? value : Buffer.from(value, 'base64').toString('hex'));
  const out: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        out.push({
          traceId: id(span.traceId),
          spanId: id(span.spanId),
          parentSpanId: id(span.parentSpanId),
          name: span.name,
          kind: span.kind ?? 0,
          attributes: attributesOf(span.attributes),
          events: (span.events ?? []).map((event) => ({ name: event.name, attributes: attributesOf(event.attributes), timeMs: ms(event.timeUnixNano) })),
          startMs: ms(span.startTimeUnixNano),
          endMs: ms(span.endTimeUnixNano),
          statusCode: span.status?.code ?? 0,
          serviceName: String(resource['service.name'] ?? ''),
        });
      }
    }
  }
  return out;
}

/** Nanoseconds since the epoch (a number once decoded from protobuf, a string in JSON) as milliseconds. */
function ms(nanos: number | string | undefined): number {
  return Number(nanos ?? 0) / 1e6;
}

function attributesOf(list: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) out[key] = anyValue(value);
  return out;
}

function anyValue(value: AnyValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(anyValue);
  return undefined;
}
