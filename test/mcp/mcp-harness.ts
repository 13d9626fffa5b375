import { resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

const bin = resolve(import.meta.dirname, '../../bin/legate.js');

/** The echo MCP server of the client tests, as an `mcp_servers` entry. */
export const echoServer = { command: process.execPath, args: [resolve(import.meta.dirname, 'fixtures/echo-server.mjs')] };

export interface LegateMcp {
  client: Client;
  /** What `legate mcp` wrote on stderr so far. */
  stderr(): string;
  /** Call a tool; its text content, parsed as JSON when it is JSON. */
  call(
    name: string,
    args: Record<string, unknown>,
    options?: { onprogress?: (progress: { progress: number; total?: number; message?: string }) => void },
  ): Promise<{ isError: boolean; text: string; json: any }>;
  close(): Promise<void>;
}

/** Start `legate --config <file> mcp [...args]` with the SDK's stdio client and connect to it. */
export async function connectLegate(options: { configFile: string; home: string; cwd: string; args?: string[] }): Promise<LegateMcp> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [bin, '--config', options.configFile, 'mcp', ...(options.args ?? [])],
    env: { PATH: process.env.PATH ?? '', HOME: options.home, LEGATE_HOME: options.home },
    cwd: options.cwd,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const client = new Client({ name: 'legate-test', version: '1.0.0' });
  await client.connect(transport);
  return {
    client,
    stderr: () => stderr,
    async call(name, args, callOptions = {}) {
      const result = (await client.callTool({ name, arguments: args }, undefined, callOptions)) as CallToolResult;
      const text = result.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { isError: result.isError === true, text, json };
    },
    close: () => client.close(),
  };
}
