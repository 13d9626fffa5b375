import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/testing/free-port.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { runCli, scriptedConfig, tempHome } from '../helpers/cli.js';
import { childWith, isParent } from '../helpers/script.js';

/** A collector that is down costs one warning on stderr and nothing else: the run answers and exits 0. */

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
});

describe('tracing with the exporter down', () => {
  for (const protocol of ['http/protobuf', 'http/json']) {
    it(`${protocol}: one warning naming the endpoint, the answer, exit 0`, async () => {
      server = await startScriptedServer();
      server.enqueue(
        { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'DOWN-GOAL' } }] } },
        { match: childWith('DOWN-GOAL'), reply: { text: 'DOWN-SUMMARY' } },
        { match: isParent, reply: { text: 'ANSWER' } },
      );
      const port = await freePort(); // nothing listens there
      const { home, work } = tempHome(scriptedConfig(server.openaiBaseUrl));
      const started = Date.now();
      const result = await runCli(['run', 'go'], {
        home,
        cwd: work,
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
          OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=HEADER-SECRET',
        },
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.trim()).toBe('ANSWER');
      const warnings = result.stderr.split('\n').filter((line) => line.includes('warning'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`legate: warning: traces not exported to http://127.0.0.1:${port}/v1/traces`);
      expect(result.stderr).not.toContain('HEADER-SECRET');
      // Bounded: the exit waits for the last export a few seconds at most (generous margin for a loaded machine).
      expect(Date.now() - started).toBeLessThan(30_000);
      server.assertDone();
    }, 60_000);
  }

  it('an unsupported OTEL_EXPORTER_OTLP_PROTOCOL is an error naming it', async () => {
    server = await startScriptedServer();
    const { home, work } = tempHome(scriptedConfig(server.openaiBaseUrl));
    const result = await runCli(['run', 'go'], {
      home,
      cwd: work,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not supported; use http/protobuf or http/json');
    expect(server.requests).toHaveLength(0);
  }, 60_000);
});
