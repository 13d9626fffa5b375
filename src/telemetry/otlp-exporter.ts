import type { Agent, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { legateVersion } from '../version.js';
import { encodeTraceRequestJson } from './otlp-json.js';
import { encodeTraceRequest } from './otlp-protobuf.js';
import type { OtlpProtocol } from './telemetry-settings.js';

export interface OtlpHttpExporterOptions {
  /** The full traces URL (`…/v1/traces`). */
  url: string;
  protocol: OtlpProtocol;
  headers: Record<string, string>;
  /** Per export, retries included, ms. */
  timeoutMs: number;
}

/** Network errors worth another attempt (the OTLP exporters' list). */
const retryableCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH']);
const retryableStatus = new Set([429, 502, 503, 504]);

type Attempt = { ok: true } | { ok: false; retryable: boolean; error: string; retryAfterMs?: number };

/** One export in flight: its current request or retry timer, and how it ends. */
interface Job {
  request?: ClientRequest;
  timer?: NodeJS.Timeout;
  lastError?: string;
  finish(result: ExportResult): void;
  /** Resolves once `finish` ran. */
  ended: Promise<void>;
}

/**
 * An OTLP/HTTP trace exporter (`http/protobuf` or `http/json`), legate's own so that the exit is
 * bounded: `abort` ends every export in flight at once (its request destroyed, its retry timer
 * cleared), where the SDK's exporter keeps the process alive through its retries until its
 * timeout. Retries as the OTLP spec says (429, 502, 503, 504 and network errors, exponential
 * backoff with jitter) within `timeoutMs` per export. Errors name the URL's status or the network
 * error, never the headers.
 */
export class OtlpHttpExporter implements SpanExporter {
  private readonly jobs = new Set<Job>();
  private stopped = false;
  private readonly encode: (spans: readonly ReadableSpan[]) => Uint8Array;
  private readonly contentType: string;

  private constructor(
    private readonly options: OtlpHttpExporterOptions,
    private readonly request: (url: URL, options: RequestOptions, onResponse: (response: IncomingMessage) => void) => ClientRequest,
    private readonly agent: Agent,
  ) {
    const json = options.protocol === 'http/json';
    this.encode = json ? encodeTraceRequestJson : encodeTraceRequest;
    this.contentType = json ? 'application/json' : 'application/x-protobuf';
  }

  /** Loads Node's HTTP client now (not at the first export, in the middle of a run). */
  static async open(options: OtlpHttpExporterOptions): Promise<OtlpHttpExporter> {
    const http = options.url.startsWith('https:') ? await import('node:https') : await import('node:http');
    return new OtlpHttpExporter(options, http.request, new http.Agent({ keepAlive: true }));
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (this.stopped) return done({ code: ExportResultCode.FAILED, error: new Error('the exporter is shut down') });
    let body: Uint8Array;
    try {
      body = this.encode(spans);
    } catch (error) {
      return done({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
    }
    let ended = (): void => {};
    const job: Job = {
      finish: (result) => {
        if (!this.jobs.delete(job)) return; // ended already (aborted)
        ended();
        done(result);
      },
      ended: new Promise((resolve) => (ended = resolve)),
    };
    this.jobs.add(job);
    void this.run(job, body);
  }

  /** Resolves when every export in flight has ended. */
  async forceFlush(): Promise<void> {
    await Promise.all([...this.jobs].map((job) => job.ended));
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    await this.forceFlush();
    this.agent.destroy();
  }

  /** End every export in flight now, as failed (`reason` says why), and close the connections. */
  abort(reason: string): void {
    this.stopped = true;
    for (const job of [...this.jobs]) {
      clearTimeout(job.timer);
      job.request?.destroy();
      job.finish({ code: ExportResultCode.FAILED, error: new Error(job.lastError ? `${job.lastError}; ${reason}` : reason) });
    }
    this.agent.destroy();
  }

  private async run(job: Job, body: Uint8Array): Promise<void> {
    const deadline = Date.now() + this.options.timeoutMs;
    let backoff = 1_000;
    for (;;) {
      const attempt = await this.attempt(job, body, deadline - Date.now());
      if (!this.jobs.has(job)) return; // aborted meanwhile
      if (attempt.ok) return job.finish({ code: ExportResultCode.SUCCESS });
      job.lastError = attempt.error;
      const delay = attempt.retryAfterMs ?? Math.min(backoff * (0.8 + Math.random() * 0.4), 5_000);
      backoff *= 1.5;
      if (!attempt.retryable || delay >= deadline - Date.now()) return job.finish({ code: ExportResultCode.FAILED, error: new Error(attempt.error) });
      await new Promise<void>((resolve) => (job.timer = setTimeout(resolve, delay)));
      job.timer = undefined;
      if (!this.jobs.has(job)) return;
    }
  }

  private attempt(job: Job, body: Uint8Array, timeoutMs: number): Promise<Attempt> {
    return new Promise((resolve) => {
      const request = this.request(
        new URL(this.options.url),
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            ...this.options.headers,
            'content-type': this.contentType,
            'content-length': body.byteLength,
            'user-agent': `legate/${legateVersion}`,
          },
        },
        (response) => {
          response.resume(); // the body (a partial success at most) is not read
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve({ ok: true });
            resolve({ ok: false, retryable: retryableStatus.has(status), error: `HTTP ${status}`, ...retryAfter(response) });
          });
          response.on('error', (error) => resolve({ ok: false, retryable: true, error: error.message }));
        },
      );
      job.request = request;
      request.setTimeout(Math.max(1, timeoutMs), () => {
        request.destroy();
        resolve({ ok: false, retryable: true, error: `no answer within ${(this.options.timeoutMs / 1000).toFixed(1)} s` });
      });
      request.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, retryable: retryableCodes.has(error.code ?? ''), error: error.message }));
      request.end(body);
    });
  }
}

function retryAfter(response: IncomingMessage): { retryAfterMs?: number } {
  const seconds = Number(response.headers['retry-after']);
  return Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: seconds * 1000 } : {};
}
