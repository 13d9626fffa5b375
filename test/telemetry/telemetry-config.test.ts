import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { runCli, scriptedConfig, tempHome } from '../helpers/cli.js';
import { type OtlpReceiver, startOtlpReceiver } from './otlp-receiver.js';

/** The `telemetry:` section of config.yaml: tracing from config alone, and its errors naming key and file. */

let server: ScriptedServer | undefined;
let receiver: OtlpReceiver | undefined;
afterEach(async () => {
  await server?.close();
  await receiver?.close();
});

describe('telemetry: in config.yaml', () => {
  it('turns tracing on without any OTEL_ variable: endpoint, protocol, headers, service name', async () => {
    server = await startScriptedServer();
    receiver = await startOtlpReceiver();
    server.enqueue({ reply: { text: 'DONE' } });
    const telemetry = { endpoint: receiver.url, protocol: 'http/json', headers: { 'x-tracing-key': 'TRACING-KEY-1' }, service_name: 'from-config' };
    const { home, work } = tempHome(scriptedConfig(server.openaiBaseUrl, { telemetry }));
    const result = await runCli(['run', 'hello'], { home, cwd: work });
    expect(result.code, result.stderr).toBe(0);
    expect(receiver.spans.map((span) => span.name).sort()).toEqual(['chat parent-model', 'invoke_agent legate']);
    expect(receiver.spans[0]!.serviceName).toBe('from-config');
    expect(receiver.bodies[0]!.contentType).toContain('application/json');
    expect(receiver.bodies[0]!.headers['x-tracing-key']).toBe('TRACING-KEY-1');
    // The key of the tracing backend is a header, never span data.
    expect(receiver.bodies.map((body) => body.text).join('\n')).not.toContain('TRACING-KEY-1');
  }, 60_000);

  it('a bad value names the key and the file', async () => {
    const { home, work, configFile } = tempHome();
    writeFileSync(configFile, stringify({ model: { name: 'm', api_key: 'sk-config-0001' }, telemetry: { protocol: 'grpc' } }));
    const result = await runCli(['run', 'hello'], { home, cwd: work });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('telemetry.protocol');
    expect(result.stderr).toContain(configFile);
  }, 60_000);

  it('OTEL_TRACES_SAMPLER: always_off exports nothing; an unknown sampler is one warning naming it, and the default', async () => {
    server = await startScriptedServer();
    receiver = await startOtlpReceiver();
    server.enqueue({ reply: { text: 'ONE' } }, { reply: { text: 'TWO' } });
    const { home, work } = tempHome(scriptedConfig(server.openaiBaseUrl));
    const off = await runCli(['run', 'hello'], { home, cwd: work, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER: 'always_off' } });
    expect(off.code, off.stderr).toBe(0);
    expect(receiver.spans).toEqual([]);
    const unknown = await runCli(['run', 'hello'], { home, cwd: work, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER: 'sometimes' } });
    expect(unknown.code, unknown.stderr).toBe(0);
    expect(unknown.stderr).toContain('legate: warning: OTEL_TRACES_SAMPLER: unknown sampler "sometimes"');
    expect(unknown.stderr).toContain('using parentbased_always_on');
    expect(receiver.spans.map((span) => span.name).sort()).toEqual(['chat parent-model', 'invoke_agent legate']);
  }, 60_000);
});
