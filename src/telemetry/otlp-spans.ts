import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** The spans of one resource, by instrumentation scope: one `ResourceSpans` of an OTLP request. */
export interface ResourceGroup {
  resource: Resource;
  scopes: { scope: InstrumentationScope; spans: ReadableSpan[] }[];
}

/** `spans` grouped by resource, then by scope, in the order they first appear. */
export function spansByResourceAndScope(spans: readonly ReadableSpan[]): ResourceGroup[] {
  const groups = new Map<Resource, { group: ResourceGroup; scopes: Map<string, ReadableSpan[]> }>();
  for (const span of spans) {
    let entry = groups.get(span.resource);
    if (!entry) {
      entry = { group: { resource: span.resource, scopes: [] }, scopes: new Map() };
      groups.set(span.resource, entry);
    }
    const scope = span.instrumentationScope;
    const key = `${scope.name}\u0000${scope.version ?? ''}\u0000${scope.schemaUrl ?? ''}`;
    let list = entry.scopes.get(key);
    if (!list) {
      list = [];
      entry.scopes.set(key, list);
      entry.group.scopes.push({ scope, spans: list });
    }
    list.push(span);
  }
  return [...groups.values()].map((entry) => entry.group);
}

/** A span's (or link's) OTLP `flags`: the W3C trace flags, and whether its parent (the linked span) is remote. */
export function otlpFlags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | 0x100 | (isRemote ? 0x200 : 0);
}
