import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { otlpFlags, spansByResourceAndScope } from './otlp-spans.js';

/**
 * An OTLP `ExportTraceServiceRequest` (opentelemetry/proto/collector/trace/v1) as protobuf bytes,
 * in one pass over the spans: strings and ids are written by Buffer's native `write` (utf8, hex),
 * and a nested message reserves one length byte, shifted only when it turns out longer than 127
 * bytes. Field numbers are the proto's; the tests decode the bytes with the OpenTelemetry proto
 * definitions.
 */
export function encodeTraceRequest(spans: readonly ReadableSpan[]): Uint8Array {
  const writer = new ProtoWriter(Math.max(4096, spans.length * 512));
  for (const group of spansByResourceAndScope(spans)) {
    const resourceSpans = writer.begin(1); // ExportTraceServiceRequest.resource_spans
    const resource = writer.begin(1); // ResourceSpans.resource
    writer.attributes(1, group.resource.attributes); // Resource.attributes
    writer.end(resource);
    for (const scope of group.scopes) {
      const scopeSpans = writer.begin(2); // ResourceSpans.scope_spans
      const instrumentation = writer.begin(1); // ScopeSpans.scope
      writer.string(1, scope.scope.name);
      if (scope.scope.version) writer.string(2, scope.scope.version);
      writer.end(instrumentation);
      for (const span of scope.spans) writeSpan(writer, span);
      if (scope.scope.schemaUrl) writer.string(3, scope.scope.schemaUrl);
      writer.end(scopeSpans);
    }
    if (group.resource.schemaUrl) writer.string(3, group.resource.schemaUrl);
    writer.end(resourceSpans);
  }
  return writer.finish();
}

/** opentelemetry.proto.trace.v1.Span. */
function writeSpan(writer: ProtoWriter, span: ReadableSpan): void {
  const context = span.spanContext();
  const start = writer.begin(2); // ScopeSpans.spans
  writer.hex(1, context.traceId);
  writer.hex(2, context.spanId);
  if (context.traceState) writer.string(3, context.traceState.serialize());
  if (span.parentSpanContext?.spanId) writer.hex(4, span.parentSpanContext.spanId);
  writer.string(5, span.name);
  writer.tag(6, 0);
  writer.varint(span.kind + 1); // the API's INTERNAL is 0, the proto's SPAN_KIND_INTERNAL 1
  writer.time(7, span.startTime);
  writer.time(8, span.endTime);
  writer.attributes(9, span.attributes);
  if (span.droppedAttributesCount) writer.uint(10, span.droppedAttributesCount);
  for (const event of span.events) {
    const at = writer.begin(11);
    writer.time(1, event.time);
    writer.string(2, event.name);
    if (event.attributes) writer.attributes(3, event.attributes);
    if (event.droppedAttributesCount) writer.uint(4, event.droppedAttributesCount);
    writer.end(at);
  }
  if (span.droppedEventsCount) writer.uint(12, span.droppedEventsCount);
  for (const link of span.links) {
    const at = writer.begin(13);
    writer.hex(1, link.context.traceId);
    writer.hex(2, link.context.spanId);
    if (link.context.traceState) writer.string(3, link.context.traceState.serialize());
    if (link.attributes) writer.attributes(4, link.attributes);
    if (link.droppedAttributesCount) writer.uint(5, link.droppedAttributesCount);
    writer.fixed32(6, otlpFlags(link.context.traceFlags, link.context.isRemote));
    writer.end(at);
  }
  if (span.droppedLinksCount) writer.uint(14, span.droppedLinksCount);
  const status = writer.begin(15);
  if (span.status.message) writer.string(2, span.status.message);
  writer.uint(3, span.status.code);
  writer.end(status);
  writer.fixed32(16, otlpFlags(context.traceFlags, span.parentSpanContext?.isRemote));
  writer.end(start);
}

/** Protobuf wire format into one growing buffer. */
class ProtoWriter {
  private buffer: Buffer;
  private at = 0;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  finish(): Uint8Array {
    return this.buffer.subarray(0, this.at);
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** A non-negative integer up to 2^53. */
  varint(value: number): void {
    this.room(10);
    let rest = value;
    while (rest > 127) {
      this.buffer[this.at++] = (rest % 128) | 128;
      rest = Math.floor(rest / 128);
    }
    this.buffer[this.at++] = rest;
  }

  uint(field: number, value: number): void {
    this.tag(field, 0);
    this.varint(value);
  }

  string(field: number, value: string): void {
    this.tag(field, 2);
    this.room(value.length * 3 + 5);
    if (value.length < 43) {
      // At most 126 bytes of UTF-8: one length byte, written after the text.
      const written = this.buffer.write(value, this.at + 1, 'utf8');
      this.buffer[this.at] = written;
      this.at += written + 1;
      return;
    }
    const length = Buffer.byteLength(value, 'utf8');
    this.varint(length);
    this.at += this.buffer.write(value, this.at, 'utf8');
  }

  /** An id given as hex (trace and span ids) as its bytes. */
  hex(field: number, value: string): void {
    this.tag(field, 2);
    this.room(value.length / 2 + 1);
    this.buffer[this.at] = value.length / 2;
    this.at += this.buffer.write(value, this.at + 1, 'hex') + 1;
  }

  fixed32(field: number, value: number): void {
    this.tag(field, 5);
    this.room(4);
    this.at = this.buffer.writeUInt32LE(value >>> 0, this.at);
  }

  /**
   * A time as fixed64 nanoseconds since the epoch, in exact double arithmetic (no BigInt): seconds
   * split in 16-bit halves keep every product under 2^53.
   */
  time(field: number, time: HrTime): void {
    this.tag(field, 1);
    this.room(8);
    const [seconds, nanos] = time;
    const high = Math.floor(seconds / 65_536) * 1e9; // × 2^16
    const low = (seconds % 65_536) * 1e9 + nanos;
    const lowPart = (high % 65_536) * 65_536 + low;
    const lo = lowPart % 4_294_967_296;
    const hi = Math.floor(high / 65_536) + Math.floor(lowPart / 4_294_967_296);
    this.at = this.buffer.writeUInt32LE(lo, this.at);
    this.at = this.buffer.writeUInt32LE(hi, this.at);
  }

  /** Repeated `KeyValue` under `field`. */
  attributes(field: number, attributes: Attributes): void {
    for (const key in attributes) {
      const value = attributes[key];
      if (value === undefined || value === null) continue;
      const at = this.begin(field);
      this.string(1, key);
      this.anyValue(2, value);
      this.end(at);
    }
  }

  /** An `AnyValue` under `field`: integers as `int_value`, other numbers as `double_value`, as the SDK's serializer. */
  private anyValue(field: number, value: AttributeValue): void {
    const at = this.begin(field);
    if (typeof value === 'string') this.string(1, value);
    else if (typeof value === 'boolean') this.uint(2, value ? 1 : 0);
    else if (typeof value === 'number') {
      if (Number.isInteger(value) && value >= 0 && value <= Number.MAX_SAFE_INTEGER) this.uint(3, value);
      else if (Number.isInteger(value) && value < 0 && value >= Number.MIN_SAFE_INTEGER) {
        this.tag(3, 0);
        this.negative(value);
      } else {
        this.tag(4, 1);
        this.room(8);
        this.at = this.buffer.writeDoubleLE(value, this.at);
      }
    } else if (Array.isArray(value)) {
      const array = this.begin(5);
      for (const item of value) {
        if (item === null || item === undefined) this.end(this.begin(1));
        else this.anyValue(1, item);
      }
      this.end(array);
    }
    this.end(at);
  }

  /** A negative int64 as its ten-byte two's complement varint. */
  private negative(value: number): void {
    let rest = BigInt.asUintN(64, BigInt(value));
    this.room(10);
    while (rest > 127n) {
      this.buffer[this.at++] = Number(rest & 127n) | 128;
      rest >>= 7n;
    }
    this.buffer[this.at++] = Number(rest);
  }

  /** Start a length-delimited `field`: returns where its one reserved length byte is. */
  begin(field: number): number {
    this.tag(field, 2);
    this.room(1);
    return this.at++;
  }

  /** End the message begun at `start`: its length goes in the reserved byte, the body moved on when it needs more. */
  end(start: number): void {
    const length = this.at - start - 1;
    if (length < 128) {
      this.buffer[start] = length;
      return;
    }
    const extra = varintSize(length) - 1;
    this.room(extra);
    this.buffer.copyWithin(start + 1 + extra, start + 1, this.at);
    let rest = length;
    let at = start;
    while (rest > 127) {
      this.buffer[at++] = (rest % 128) | 128;
      rest = Math.floor(rest / 128);
    }
    this.buffer[at] = rest;
    this.at += extra;
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + bytes));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }
}

function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest > 127; rest = Math.floor(rest / 128)) size++;
  return size;
}
