import type { RecordedRequest, ResolvedReply } from './scripted-script.js';

/** The server side of one wire: how requests read and how replies are written. Pure functions. */
export interface WireEncoder {
  readonly wire: RecordedRequest['wire'];
  /** Prefix of generated tool-call ids. */
  readonly toolIdPrefix: string;
  /** All text of a request body, for `RecordedRequest.text`. */
  requestText(body: any): string;
  /** The complete SSE frames (each ending in a blank line) of a streamed reply. */
  streamFrames(reply: ResolvedReply, request: RecordedRequest): string[];
  /** A frame that is not valid JSON, for `malformed` streams. */
  malformedFrame(): string;
  /** The wire's mid-stream error frame (`streamError`). */
  errorFrame(type: string, message: string): string;
  /** A keep-alive the wire's servers send while a reply is slow. */
  keepAliveFrame(): string;
  /** The JSON body of a non-streamed reply. */
  body(reply: ResolvedReply, request: RecordedRequest): unknown;
  /** The wire's error body shape. */
  errorBody(status: number, message: string): unknown;
  /** The answer to `GET /v1/models`. */
  modelsBody(models: string[]): unknown;
}

export function sseData(data: unknown): string {
  return `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
