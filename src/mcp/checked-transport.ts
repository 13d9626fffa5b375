import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/**
 * The stdio transport of `legate mcp`, answering what the SDK would drop or misreport, as JSON-RPC 2.0 says:
 * a line that is not JSON gets -32700 (Parse error, `id: null`), JSON that is not a JSON-RPC message gets
 * -32600 (Invalid Request), and a `tools/call` whose `arguments` is not an object gets -32602 (Invalid
 * params) with a plain message, where the SDK's schema check would answer -32603 with its zod issues.
 */
export class CheckedStdioTransport implements Transport {
  private readonly inner: StdioServerTransport;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];

  constructor(stdin: Readable, stdout: Writable) {
    this.inner = new StdioServerTransport(stdin, stdout);
    this.inner.onclose = () => this.onclose?.();
    this.inner.onerror = (error) => {
      const refusal = lineRefusal(error);
      if (refusal) void this.inner.send(refusal).catch(() => {});
      this.onerror?.(error);
    };
    this.inner.onmessage = (message) => {
      const refusal = callRefusal(message);
      if (refusal) void this.inner.send(refusal).catch(() => {});
      else this.onmessage?.(message);
    };
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.inner.send(message);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The error response for a line the transport could not read as a JSON-RPC message. */
function lineRefusal(error: Error): JSONRPCMessage | undefined {
  if (error instanceof SyntaxError) return errorResponse(null, ErrorCode.ParseError, `Parse error: the line is not valid JSON (${error.message})`);
  if (error.name === 'ZodError') return errorResponse(null, ErrorCode.InvalidRequest, 'Invalid Request: the line is JSON but not a JSON-RPC 2.0 message');
  return undefined;
}

/** The error response for a `tools/call` request whose `arguments` is present but not a JSON object. */
function callRefusal(message: JSONRPCMessage): JSONRPCMessage | undefined {
  if (!('method' in message) || message.method !== 'tools/call' || !('id' in message)) return undefined;
  const args = (message.params as { arguments?: unknown } | undefined)?.arguments;
  if (args === undefined || (args !== null && typeof args === 'object' && !Array.isArray(args))) return undefined;
  const kind = args === null ? 'null' : Array.isArray(args) ? 'an array' : `a ${typeof args}`;
  return errorResponse(message.id, ErrorCode.InvalidParams, `Invalid params: tools/call "arguments" must be a JSON object (got ${kind})`);
}

function errorResponse(id: string | number | null, code: number, message: string): JSONRPCMessage {
  // JSON-RPC 2.0 answers an unreadable request with `id: null`; the SDK's type has no room for it.
  return { jsonrpc: '2.0', id: id as string | number, error: { code, message } };
}
