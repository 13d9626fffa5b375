import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openOtelTracing } from '../../src/telemetry/otel-tracing.js';
import { telemetrySettings } from '../../src/telemetry/telemetry-settings.js';
import { freePort } from '../../src/testing/free-port.js';

/**
 * The exit with a collector that is down is bounded: `shutdown` gives up after 1 s, though the
 * export timeout is 10 s, with one warning, and leaves no request or retry timer behind to hold
 * the process (in process: the connection is closed, no timer is left).
 */

let blackhole: Server | undefined;
afterEach(async () => {
  blackhole?.closeAllConnections();
  await new Promise((resolve) => (blackhole ? blackhole.close(resolve) : resolve(undefined)));
  blackhole = undefined;
});

async function tracedAndShutDown(url: string): Promise<{ ms: number; warnings: string[] }> {
  const warnings: string[] = [];
  const settings = telemetrySettings(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_EXPORTER_OTLP_TIMEOUT: '10000' })!;
  const tracing = await openOtelTracing(settings, (line) => warnings.push(line));
  const agent = tracing.startAgent({ name: 'legate', agentId: 's_exit', conversationId: 's_exit', provider: 'openai', model: 'm' });
  agent.observe({ type: 'model.started', iteration: 1, model: 'm' });
  agent.end(undefined);
  const started = Date.now();
  await tracing.shutdown();
  return { ms: Date.now() - started, warnings };
}

const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

describe('the exit with the collector down', () => {
  it('nothing listens (refused, retried): shutdown gives up after about 1 s, one warning, no retry timer left', async () => {
    const before = timers();
    const { ms, warnings } = await tracedAndShutDown(`http://127.0.0.1:${await freePort()}`);
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(3_000); // generous for a loaded machine; the export's own timeout is 10 s
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^traces not exported to http:\/\/127\.0\.0\.1:\d+\/v1\/traces: .*ECONNREFUSED.*not exported within 1 s at exit$/);
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('a collector that never answers: shutdown gives up after about 1 s and closes the connection', async () => {
    const sockets: Socket[] = [];
    let closed = 0;
    blackhole = createServer(() => {}); // reads the request, never answers
    blackhole.on('connection', (socket) => {
      sockets.push(socket);
      socket.on('close', () => closed++);
    });
    await new Promise<void>((resolve) => blackhole!.listen(0, '127.0.0.1', resolve));
    const { port } = blackhole.address() as AddressInfo;
    const { ms, warnings } = await tracedAndShutDown(`http://127.0.0.1:${port}`);
    expect(ms).toBeLessThan(3_000);
    expect(warnings).toEqual([`traces not exported to http://127.0.0.1:${port}/v1/traces: not exported within 1 s at exit`]);
    expect(sockets).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(1);
  });
});
