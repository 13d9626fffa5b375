import type { TelemetrySection } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import { telemetrySettings } from './telemetry-settings.js';
import { noTracing, type Tracing } from './tracing.js';

/**
 * The tracing a command runs with: OpenTelemetry when an endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `telemetry.endpoint`) and `OTEL_SDK_DISABLED` is not `true`;
 * otherwise `noTracing`, and the SDK is not even loaded. An SDK that fails to start costs a warning
 * through `warn`, not the command. Throws `config_invalid` for an unsupported `OTEL_EXPORTER_OTLP_PROTOCOL`.
 */
export async function startTracing(section: TelemetrySection | undefined, env: NodeJS.ProcessEnv, warn: (line: string) => void): Promise<Tracing> {
  const settings = telemetrySettings(section, env);
  if (!settings) return noTracing;
  try {
    const { openOtelTracing } = await import('./otel-tracing.js');
    return await openOtelTracing(settings, warn);
  } catch (error) {
    warn(`tracing is off: the OpenTelemetry SDK did not start: ${errorMessage(error)}`);
    return noTracing;
  }
}
