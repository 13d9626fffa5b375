import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';
import * as acp from '@agentclientprotocol/sdk';

const bin = resolve(import.meta.dirname, '../../bin/legate.js');

export interface AcpClient {
  agent: acp.ClientContext;
  /** Every `session/update` received so far, in order. */
  updates: acp.SessionNotification[];
  /** The updates of one session. */
  of(sessionId: string): acp.SessionUpdate[];
  /** The text of the session's `agent_message_chunk`s so far. */
  text(sessionId: string): string;
  stderr(): string;
  close(): Promise<void>;
}

/**
 * Start the built `legate --config <file> acp [args]` in `cwd` and connect the SDK's client side to
 * it over stdio. `serve` registers the client's request handlers (file system, permissions).
 */
export function startAcp(options: {
  configFile: string;
  home: string;
  cwd: string;
  args?: string[];
  serve?: (app: acp.ClientApp) => acp.ClientApp;
}): AcpClient {
  const child = spawn(process.execPath, [bin, '--config', options.configFile, 'acp', ...(options.args ?? [])], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: options.home, LEGATE_HOME: options.home },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const updates: acp.SessionNotification[] = [];
  const base = acp.client({ name: 'legate-test' }).onNotification('session/update', ({ params }) => {
    updates.push(params);
  });
  const app = options.serve ? options.serve(base) : base;
  const connection = app.connect(
    acp.ndJsonStream(Writable.toWeb(child.stdin) as WritableStream<Uint8Array>, Readable.toWeb(child.stdout) as ReadableStream<Uint8Array>),
  );
  const of = (sessionId: string): acp.SessionUpdate[] => updates.filter((update) => update.sessionId === sessionId).map((update) => update.update);
  return {
    agent: connection.agent,
    updates,
    of,
    text: (sessionId) =>
      of(sessionId)
        .map((update) => (update.sessionUpdate === 'agent_message_chunk' && update.content.type === 'text' ? update.content.text : ''))
        .join(''),
    stderr: () => stderr,
    close: async () => {
      connection.close();
      child.stdin.end();
      await exited;
    },
  };
}

export const initializeParams: acp.InitializeRequest = {
  protocolVersion: acp.PROTOCOL_VERSION,
  clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false },
};
