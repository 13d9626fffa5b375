import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { legateVersion } from '../../version.js';
import { checkLiteralHost, guardedLookup } from './address-guard.js';

/** The User-Agent of every web request legate makes. */
export const userAgent = `legate/${legateVersion} (AI agent runtime; web tools)`;

/** One response, its body not read yet: `read` reads it (up to the byte limit), `discard` drops it. */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body, decoded (gzip, deflate, br), at most `maxBytes` bytes of it; `wireBytes` counts what came over the network. */
  read(): Promise<{ body: Buffer; truncated: boolean; wireBytes: number }>;
  discard(): void;
}

export interface HttpGetOptions {
  signal: AbortSignal;
  /** `web.allow_hosts`: hosts that may resolve to loopback or private addresses. */
  allowHosts: readonly string[];
  /** `web.max_bytes`. */
  maxBytes: number;
  headers?: Record<string, string>;
}

/**
 * One GET of `url` (http or https), no redirect followed. The address is checked before the socket
 * connects (`guardedLookup`; an IP literal by `checkLiteralHost`), so a refusal (`sandbox_denied`)
 * sends nothing. Rejects on a network error or when `signal` aborts.
 */
export function httpGet(url: URL, options: HttpGetOptions): Promise<HttpResponse> {
  checkLiteralHost(url.hostname, options.allowHosts);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<HttpResponse>((resolve, reject) => {
    const request = send(
      url,
      {
        method: 'GET',
        signal: options.signal,
        // A connection of its own: a pooled socket would skip the lookup, so its address would go unchecked.
        agent: false,
        lookup: guardedLookup(options.allowHosts) as never,
        headers: {
          'user-agent': userAgent,
          accept: 'text/html,application/xhtml+xml,text/plain,application/json;q=0.9,*/*;q=0.5',
          'accept-encoding': 'gzip, deflate, br',
          ...options.headers,
        },
      },
      (response) => resolve(wrap(response, options)),
    );
    request.on('error', reject);
    request.end();
  });
}

function wrap(response: IncomingMessage, options: HttpGetOptions): HttpResponse {
  return {
    status: response.statusCode ?? 0,
    headers: response.headers,
    discard: () => response.destroy(),
    read: () => readBody(response, options.maxBytes),
  };
}

/** The decoded body, stopping (and closing the connection) once `maxBytes` decoded bytes came. */
function readBody(response: IncomingMessage, maxBytes: number): Promise<{ body: Buffer; truncated: boolean; wireBytes: number }> {
  let wireBytes = 0;
  response.on('data', (chunk: Buffer) => {
    wireBytes += chunk.length;
  });
  const encoding = String(response.headers['content-encoding'] ?? '')
    .toLowerCase()
    .trim();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? createGunzip()
      : encoding === 'deflate'
        ? createInflate()
        : encoding === 'br'
          ? createBrotliDecompress()
          : undefined;
  const stream: Readable = decoder ? response.pipe(decoder) : response;
  if (decoder) response.on('error', (error) => decoder.destroy(error));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (truncated: boolean): void => {
      if (done) return;
      done = true;
      resolve({ body: Buffer.concat(chunks), truncated, wireBytes });
    };
    stream.on('data', (chunk: Buffer) => {
      if (done) return;
      const room = maxBytes - size;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        size = maxBytes;
        finish(true);
        response.destroy();
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    stream.on('end', () => finish(false));
    stream.on('error', (error) => {
      if (!done) {
        done = true;
        reject(error);
      }
    });
    response.on('error', (error) => {
      if (!done) {
        done = true;
        reject(error);
      }
    });
  });
}
