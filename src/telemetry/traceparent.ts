/** A span's identity as W3C trace context carries it. */
export interface SpanIdentity {
  traceId: string;
  spanId: string;
  /** Bit 0: sampled. */
  traceFlags: number;
}

const pattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The W3C `traceparent` header value of a span (version 00). */
export function formatTraceparent(span: SpanIdentity): string {
  return `00-${span.traceId}-${span.spanId}-${span.traceFlags.toString(16).padStart(2, '0')}`;
}

/** The span a `traceparent` names; undefined for anything that is not a valid version-00 value (all-zero ids included). */
export function parseTraceparent(value: string | undefined): SpanIdentity | undefined {
  const match = value === undefined ? null : pattern.exec(value.trim().toLowerCase());
  if (!match) return undefined;
  const [, traceId, spanId, flags] = match as unknown as [string, string, string, string];
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) };
}
