import type { ReceivedSpan } from './otlp-receiver.js';

/** Readers of a received span tree. */

export function spanNamed(spans: ReceivedSpan[], name: string, where: (span: ReceivedSpan) => boolean = () => true): ReceivedSpan {
  const found = spans.filter((span) => span.name === name && where(span));
  if (found.length !== 1) throw new Error(`expected one span "${name}", found ${found.length}; spans: ${spans.map((span) => span.name).join(', ')}`);
  return found[0]!;
}

export function childrenOf(spans: ReceivedSpan[], parent: ReceivedSpan): ReceivedSpan[] {
  return spans.filter((span) => span.parentSpanId === parent.spanId && span.traceId === parent.traceId);
}

/** The invoke_agent span of task `taskId`. */
export function taskSpan(spans: ReceivedSpan[], taskId: string): ReceivedSpan {
  return spanNamed(spans, 'invoke_agent child', (span) => span.attributes['gen_ai.agent.id'] === taskId);
}
