import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OTLP/HTTP trace collector for the tracing bench, in its own process (forked by
 * `startOtlpSink`) so that receiving the spans never counts against the runtime measured: it
 * accepts every POST /v1/traces, answers 200 and counts requests and bytes.
 */

export interface OtlpSinkHandle {
  /** The base URL (OTEL_EXPORTER_OTLP_ENDPOINT). */
  url: string;
  stats(): Promise<{ requests: number; bytes: number }>;
  close(): Promise<void>;
}

export function startOtlpSink(): Promise<OtlpSinkHandle> {
  const child = fork(new URL(import.meta.url), ['--serve'], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`OTLP sink exited (${code}) before listening`)));
    child.on('message', function ready(message: { type: string; url?: string }) {
      if (message.type !== 'ready' || !message.url) return;
      child.off('message', ready);
      child.removeAllListeners('exit');
      resolve({
        url: message.url,
        stats: () =>
          new Promise((resolveStats) => {
            child.on('message', function answer(reply: { type: string; requests?: number; bytes?: number }) {
              if (reply.type !== 'stats') return;
              child.off('message', answer);
              resolveStats({ requests: reply.requests ?? 0, bytes: reply.bytes ?? 0 });
            });
            child.send({ type: 'stats' });
          }),
        close: () =>
          new Promise((resolveClose) => {
            if (child.exitCode !== null) return resolveClose();
            child.once('exit', () => resolveClose());
            child.send({ type: 'close' });
          }),
      });
    });
  });
}

function serve(): void {
  let requests = 0;
  let bytes = 0;
  const server = createServer((request, response) => {
    request.on('data', (chunk: Buffer) => (bytes += chunk.length));
    request.on('end', () => {
      requests++;
      response.writeHead(200, { 'content-type': String(request.headers['content-type'] ?? 'application/x-protobuf') }).end();
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.send?.({ type: 'ready', url: `http://127.0.0.1:${port}` });
  });
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stats') process.send?.({ type: 'stats', requests, bytes });
    if (message.type === 'close') server.close(() => process.exit(0));
  });
}

if (process.argv.includes('--serve')) serve();
