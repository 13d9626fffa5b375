import { describe, expect, it } from 'vitest';
import { telemetrySettings } from '../../src/telemetry/telemetry-settings.js';
import { formatTraceparent, parseTraceparent } from '../../src/telemetry/traceparent.js';

/** The OTEL_* variables over the `telemetry:` section, as a table. */
describe('telemetry settings', () => {
  const section = { endpoint: 'http://collector:4318/', headers: { 'x-from': 'config' }, capture_message_content: false };

  it('is off without an endpoint, and with OTEL_SDK_DISABLED=true', () => {
    expect(telemetrySettings(undefined, {})).toBeUndefined();
    expect(telemetrySettings({ headers: {}, capture_message_content: true }, {})).toBeUndefined();
    expect(telemetrySettings(section, { OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(telemetrySettings(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_SDK_DISABLED: 'TRUE' })).toBeUndefined();
  });

  it('takes the endpoint from the traces variable, the general one, then the section', () => {
    expect(telemetrySettings(section, {})?.url).toBe('http://collector:4318/v1/traces');
    expect(telemetrySettings(section, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4318' })?.url).toBe('http://env:4318/v1/traces');
    expect(telemetrySettings(section, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:1/custom' })?.url).toBe(
      'http://t:1/custom',
    );
  });

  it('defaults: http/protobuf, service legate, no content, 5 s; the variables win over the section', () => {
    expect(telemetrySettings(section, {})).toEqual({
      url: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      headers: { 'x-from': 'config' },
      serviceName: 'legate',
      captureContent: false,
      timeoutMs: 5_000,
      batch: { scheduledDelayMillis: 5_000, maxExportBatchSize: 4096, maxQueueSize: 16_384 },
    });
    const env = {
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-from=env,authorization=Bearer%20abc',
      OTEL_SERVICE_NAME: 'agents',
      OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true',
      OTEL_TRACES_SAMPLER: 'traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '512',
      OTEL_BSP_MAX_QUEUE_SIZE: '2048',
    };
    expect(telemetrySettings({ ...section, protocol: 'http/protobuf', service_name: 'from-config', capture_message_content: false }, env)).toEqual({
      url: 'http://collector:4318/v1/traces',
      protocol: 'http/json',
      headers: { 'x-from': 'env', authorization: 'Bearer abc' },
      serviceName: 'agents',
      captureContent: true,
      sampler: { name: 'traceidratio', arg: '0.25' },
      timeoutMs: 2_000,
      batch: { scheduledDelayMillis: 100, maxExportBatchSize: 512, maxQueueSize: 2048 },
    });
    expect(
      telemetrySettings({ ...section, capture_message_content: true }, { OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'false' })?.captureContent,
    ).toBe(false);
    expect(telemetrySettings({ ...section, capture_message_content: true }, {})?.captureContent).toBe(true);
  });

  it('refuses a protocol it cannot speak, naming the variable and the value', () => {
    expect(() => telemetrySettings(section, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(
      'OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not supported; use http/protobuf or http/json',
    );
    expect(() => telemetrySettings(section, { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/xml' })).toThrow('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/xml"');
  });
});

describe('traceparent', () => {
  it('round-trips a W3C traceparent and refuses what is not one', () => {
    const value = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(parseTraceparent(value)).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 });
    expect(formatTraceparent(parseTraceparent(value)!)).toBe(value);
    for (const bad of [
      undefined,
      '',
      'garbage',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    ]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
  });
});
