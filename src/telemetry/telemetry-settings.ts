import type { TelemetrySection } from '../config/schema.js';
import { LegateError } from '../errors.js';

const defaultTimeoutMs = 5_000;

export const otlpProtocols = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof otlpProtocols)[number];

/** How traces are exported, from the `OTEL_*` variables over the `telemetry:` section. */
export interface TelemetrySettings {
  /** The full traces URL (`…/v1/traces`). */
  url: string;
  protocol: OtlpProtocol;
  headers: Record<string, string>;
  serviceName: string;
  /** Prompt and completion text on the spans (opt-in). */
  captureContent: boolean;
  /** `OTEL_TRACES_SAMPLER` and its argument, when set. */
  sampler?: { name: string; arg?: string };
  /**
   * Per export, retries included, ms (`OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT`; default 5 s, not the SDK's 10 s:
   * a command's exit waits for its last export at most this long when the collector is down).
   */
  timeoutMs: number;
  /** The batch span processor's settings (`OTEL_BSP_*`, else legate's defaults: see `batchFrom`). */
  batch: { scheduledDelayMillis: number; maxExportBatchSize: number; maxQueueSize: number };
}

/**
 * The settings of tracing, or undefined when it is off: no endpoint in `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_ENDPOINT` or `telemetry.endpoint`, or `OTEL_SDK_DISABLED=true`. A protocol
 * other than `http/protobuf` and `http/json` is an error naming the variable and the value.
 */
export function telemetrySettings(section: TelemetrySection | undefined, env: NodeJS.ProcessEnv): TelemetrySettings | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const url = tracesUrl(section, env);
  if (url === undefined) return undefined;
  const protocol = protocolOf(section, env);
  const sampler = env.OTEL_TRACES_SAMPLER?.trim();
  const timeout = Number(env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT || env.OTEL_EXPORTER_OTLP_TIMEOUT || defaultTimeoutMs);
  return {
    url,
    protocol,
    headers: { ...section?.headers, ...parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS), ...parseHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS) },
    serviceName: env.OTEL_SERVICE_NAME?.trim() || section?.service_name || 'legate',
    captureContent: captureFrom(env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT) ?? section?.capture_message_content ?? false,
    ...(sampler ? { sampler: { name: sampler, ...(env.OTEL_TRACES_SAMPLER_ARG ? { arg: env.OTEL_TRACES_SAMPLER_ARG } : {}) } } : {}),
    timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : defaultTimeoutMs,
    batch: batchFrom(env),
  };
}

/**
 * `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` and `OTEL_BSP_MAX_QUEUE_SIZE`. legate's
 * defaults differ from the SDK's (512 spans a batch, 2048 queued): 4096 a batch and 16384 queued, so
 * that a fan-out's spans (8 per child) are serialized and sent every 5 s or at exit, not in the
 * middle of the burst that made them.
 */
function batchFrom(env: NodeJS.ProcessEnv): TelemetrySettings['batch'] {
  const number = (name: string, fallback: number): number => {
    const value = Number(env[name] || fallback);
    return Number.isInteger(value) && value > 0 ? value : fallback;
  };
  const maxExportBatchSize = number('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 4096);
  return {
    scheduledDelayMillis: number('OTEL_BSP_SCHEDULE_DELAY', 5_000),
    maxExportBatchSize,
    maxQueueSize: Math.max(maxExportBatchSize, number('OTEL_BSP_MAX_QUEUE_SIZE', 16_384)),
  };
}

function tracesUrl(section: TelemetrySection | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || section?.endpoint;
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

function protocolOf(section: TelemetrySection | undefined, env: NodeJS.ProcessEnv): OtlpProtocol {
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL'] as const) {
    const value = env[name]?.trim();
    if (!value) continue;
    if ((otlpProtocols as readonly string[]).includes(value)) return value as OtlpProtocol;
    throw new LegateError('config_invalid', `${name}: "${value}" is not supported; use ${otlpProtocols.join(' or ')}`);
  }
  return section?.protocol ?? 'http/protobuf';
}

/** `key1=value1,key2=value2`, values URL-encoded (the OTLP exporter spec's format). */
function parseHeaders(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const key = pair.slice(0, at).trim();
    const value = pair.slice(at + 1).trim();
    try {
      headers[decodeURIComponent(key)] = decodeURIComponent(value);
    } catch {
      headers[key] = value; // not URL-encoded: taken as written
    }
  }
  return headers;
}

function captureFrom(value: string | undefined): boolean | undefined {
  const text = value?.trim().toLowerCase();
  if (!text) return undefined;
  return text === 'true';
}
