import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { runCli, scriptedConfig, tempDir, tempHome } from '../helpers/cli.js';
import { type OtlpReceiver, startOtlpReceiver } from './otlp-receiver.js';

/**
 * Tracing off costs nothing: without an endpoint (or with OTEL_SDK_DISABLED=true) the OpenTelemetry
 * SDK is not even loaded. A module-resolution hook in the CLI process lists every module it loads.
 */

let server: ScriptedServer | undefined;
let receiver: OtlpReceiver | undefined;
afterEach(async () => {
  await server?.close();
  await receiver?.close();
});

/** The modules a `legate run` resolved, with `env`. */
async function modulesLoaded(env: Record<string, string>): Promise<string[]> {
  server = await startScriptedServer();
  server.enqueue({ reply: { text: 'DONE' } });
  const hooks = tempDir('legate-hooks-');
  const log = join(hooks, 'loaded.txt');
  writeFileSync(log, '');
  writeFileSync(
    join(hooks, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';\n` +
      `export async function resolve(specifier, context, next) {\n` +
      `  const resolved = await next(specifier, context);\n` +
      `  appendFileSync(${JSON.stringify(log)}, resolved.url + '\\n');\n` +
      `  return resolved;\n` +
      `}\n`,
  );
  writeFileSync(join(hooks, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${join(hooks, 'hooks.mjs')}`)});\n`);
  const { home, work } = tempHome(scriptedConfig(server.openaiBaseUrl));
  const result = await runCli(['run', 'hello'], { home, cwd: work, env: { NODE_OPTIONS: `--import ${join(hooks, 'register.mjs')}`, ...env } });
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout.trim()).toBe('DONE');
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

const sdkModules = (loaded: string[]): string[] =>
  loaded.filter((url) => /@opentelemetry\/(sdk-trace-base|sdk-trace|exporter-trace-otlp|resources)\b|\/telemetry\/(otel-tracing|otlp-exporter)\.js/.test(url));

describe('tracing off loads nothing', () => {
  it('without an endpoint, no OpenTelemetry SDK module is loaded', async () => {
    expect(sdkModules(await modulesLoaded({}))).toEqual([]);
  }, 60_000);

  it('OTEL_SDK_DISABLED=true: not loaded either, though an endpoint is set', async () => {
    receiver = await startOtlpReceiver();
    expect(sdkModules(await modulesLoaded({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SDK_DISABLED: 'true' }))).toEqual([]);
    expect(receiver.spans).toEqual([]);
  }, 60_000);

  it('with an endpoint, the SDK is loaded and the run traced (the hook sees it)', async () => {
    receiver = await startOtlpReceiver();
    const loaded = sdkModules(await modulesLoaded({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }));
    expect(loaded.some((url) => url.includes('@opentelemetry/sdk-trace-base'))).toBe(true);
    expect(loaded.some((url) => url.includes('/telemetry/otlp-exporter.js'))).toBe(true);
    expect(receiver.spans.map((span) => span.name).sort()).toEqual(['chat parent-model', 'invoke_agent legate']);
  }, 60_000);
});
