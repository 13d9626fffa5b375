import type { ServerResponse } from 'node:http';
import { type RecordedRequest, resolveReply, type ScriptedReply } from './scripted-script.js';
import type { WireEncoder } from './wire-encoder.js';

/** One HTTP exchange as the reply writer sees it. */
export interface Exchange {
  res: ServerResponse;
  /** Aborts when the client disconnects or the server closes: every wait is cut short by it. */
  gone: AbortSignal;
  /** Destroys the socket on purpose (a scripted fault, not a client abort). */
  destroySocket(): void;
}

/**
 * Writes one scripted reply, faults included: latency, a hang, a reset connection, an HTTP error,
 * a malformed body or chunk, a stream cut mid-message, one without its end, a mid-stream error
 * event, a stall or pause mid-stream (with keep-alives or not), delays between chunks.
 */
export async function writeReply(exchange: Exchange, reply: ScriptedReply, request: RecordedRequest, encoder: WireEncoder): Promise<void> {
  const { res, gone } = exchange;
  if (reply.delayMs && !(await pause(reply.delayMs, gone))) return;
  if (reply.hang) {
    await pause(Number.POSITIVE_INFINITY, gone);
    return;
  }
  if (reply.resetConnection) {
    exchange.destroySocket();
    return;
  }
  const headers = reply.headers ?? {};
  if (reply.status !== undefined && reply.status >= 400) {
    const body = reply.errorBody ?? encoder.errorBody(reply.status, `scripted HTTP ${reply.status} reply`);
    sendJson(res, reply.status, headers, reply.malformed ? brokenJson : JSON.stringify(body));
    return;
  }
  if (reply.sse !== undefined && request.stream) {
    res.writeHead(reply.status ?? 200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
    res.end(reply.sse);
    return;
  }
  const resolved = resolveReply(reply, request, encoder.toolIdPrefix);
  const status = reply.status ?? 200;

  if (!request.stream) {
    const body = reply.malformed ? brokenJson : JSON.stringify(encoder.body(resolved, request));
    if (!reply.cutStream) {
      sendJson(res, status, headers, body);
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
    await write(res, body.slice(0, Math.floor(body.length / 2)), gone);
    exchange.destroySocket();
    return;
  }

  const frames = encoder.streamFrames(resolved, request);
  const faultAt = Math.max(1, Math.floor(frames.length / 2));
  res.writeHead(status, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers });
  res.flushHeaders();
  for (const [i, frame] of frames.entries()) {
    if (gone.aborted) return;
    if (reply.cutStream && i === faultAt) {
      exchange.destroySocket();
      return;
    }
    if (reply.malformed && i === faultAt) {
      res.end(encoder.malformedFrame());
      return;
    }
    if (reply.streamError && i === faultAt) {
      res.end(encoder.errorFrame(reply.streamError.type, reply.streamError.message));
      return;
    }
    if ((reply.stallMidStream || reply.pauseMidStreamMs) && i === faultAt) {
      const waitMs = reply.stallMidStream ? Number.POSITIVE_INFINITY : (reply.pauseMidStreamMs ?? 0);
      if (!(await keepAlive(res, waitMs, reply.keepAliveEveryMs, encoder, gone))) return;
    }
    await write(res, frame, gone);
    if (reply.chunkDelayMs && i < frames.length - 1 && !(await pause(reply.chunkDelayMs, gone))) return;
  }
  res.end();
}

/** Waits `ms` mid-stream, writing the wire's keep-alive every `everyMs`; false when the exchange is gone. */
async function keepAlive(res: ServerResponse, ms: number, everyMs: number | undefined, encoder: WireEncoder, gone: AbortSignal): Promise<boolean> {
  if (!everyMs) return pause(ms, gone);
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!(await pause(Math.min(everyMs, until - Date.now()), gone))) return false;
    if (Date.now() < until) await write(res, encoder.keepAliveFrame(), gone);
  }
  return !gone.aborted;
}

const brokenJson = '{"id": "scripted-broken", "choices": [';

export function sendJson(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Resolves once the chunk was handed to the socket, or the exchange is gone. */
function write(res: ServerResponse, chunk: string, gone: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed || gone.aborted) return resolve();
    const onGone = (): void => resolve();
    gone.addEventListener('abort', onGone, { once: true });
    res.write(chunk, () => {
      gone.removeEventListener('abort', onGone);
      resolve();
    });
  });
}

/** Waits `ms` (forever for Infinity); false when `signal` aborted first. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = Number.isFinite(ms) ? setTimeout(() => done(true), ms) : undefined;
    const onAbort = (): void => done(false);
    function done(completed: boolean): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(completed);
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
