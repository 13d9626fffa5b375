import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * An exporter that says, once per process, that traces could not be exported (the collector is
 * down, refuses them): one warning through `warn`, and the run goes on. The warning names the URL,
 * never the headers.
 */
export class WarningExporter implements SpanExporter {
  private warned = false;

  constructor(
    private readonly inner: SpanExporter,
    private readonly url: string,
    private readonly warn: (line: string) => void,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) this.warnOnce(result.error?.message ?? 'the export failed');
      done(result);
    });
  }

  /** Warn (once) that traces were lost: `reason` says why. */
  warnOnce(reason: string): void {
    if (this.warned) return;
    this.warned = true;
    this.warn(`traces not exported to ${this.url}: ${reason}`);
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
