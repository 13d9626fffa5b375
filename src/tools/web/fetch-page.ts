import { STATUS_CODES } from 'node:http';
import { LegateError } from '../../errors.js';
import { bareHost } from './address-guard.js';
import { domainDecision } from './domain-rules.js';
import type { HostLimiter } from './host-limiter.js';
import { httpGet } from './http-get.js';
import type { WebSettings } from './web-settings.js';

/** Redirects followed, at most, before a fetch gives up. */
export const MAX_REDIRECTS = 5;

/** A response body and where it came from, after the redirects. */
export interface FetchedPage {
  /** The URL the body came from (the last hop's). */
  url: string;
  status: number;
  statusText: string;
  /** The media type, lower case, without parameters (`text/html`); '' when the server sent none. */
  mediaType: string;
  charset: string | undefined;
  body: Buffer;
  /** The body stopped at `web.max_bytes`. */
  truncated: boolean;
  /** Bytes received over the network, every hop counted. */
  wireBytes: number;
  /** Each URL redirected from, in order. */
  redirects: string[];
}

export interface FetchPageOptions {
  settings: WebSettings;
  limiter: HostLimiter;
  signal: AbortSignal;
  /** Whether a body of this media type is read; a refused one throws naming the type before the body is read. */
  accepts(mediaType: string): boolean;
  /** Ask a human about a host outside `web.allowed_domains`; absent: such a host is refused. */
  approve?: (url: string, host: string, reason: string) => Promise<void>;
}

/**
 * GET `address`, following at most `MAX_REDIRECTS` redirects by hand: each hop's URL must be http
 * or https, its host pass the domain lists (blocked: refused; outside `allowed_domains`: asked of a
 * human through `approve`, refused without one), and its resolved address the address guard (see
 * `httpGet`), before anything is sent to it. Each hop waits for a slot of the host limiter. The hops
 * share `web.timeout_seconds`, counted while they talk to the network (not while waiting for a slot
 * or a human). Throws `invalid_arguments` for a bad URL, `sandbox_denied` for a refusal, `timeout`.
 */
export async function fetchPage(address: string, options: FetchPageOptions): Promise<FetchedPage> {
  let url = parseWebUrl(address);
  const redirects: string[] = [];
  let wireBytes = 0;
  let remainingMs = options.settings.timeoutSeconds * 1000;
  for (;;) {
    await checkHost(url, options);
    const host = bareHost(url.hostname);
    const release = await options.limiter.acquire(host, options.signal);
    // The clock runs only while a hop talks to the network: not while a human decides, nor while the hop waits for a slot.
    const started = Date.now();
    const timer = AbortSignal.timeout(Math.max(1, remainingMs));
    const signal = AbortSignal.any([options.signal, timer]);
    try {
      const response = await httpGet(url, { signal, allowHosts: options.settings.allowHosts, maxBytes: options.settings.maxBytes });
      const location = response.headers.location;
      if (response.status >= 300 && response.status < 400 && location) {
        response.discard();
        if (redirects.length >= MAX_REDIRECTS) {
          throw new LegateError('invalid_arguments', `${address} redirected more than ${MAX_REDIRECTS} times (last to ${location}); not followed further`);
        }
        redirects.push(url.href);
        url = parseWebUrl(location, url, `the redirect from ${url.href}`);
        continue;
      }
      const [mediaType = '', ...parameters] = String(response.headers['content-type'] ?? '')
        .split(';')
        .map((part) => part.trim());
      const type = mediaType.toLowerCase();
      if (!options.accepts(type)) {
        response.discard();
        throw new LegateError(
          'invalid_arguments',
          `${url.href} is ${type ? `of content type ${type}` : 'of no stated content type'}, which web_fetch does not read (it reads HTML, plain text and JSON)`,
        );
      }
      const read = await response.read();
      wireBytes += read.wireBytes;
      const charset = parameters
        .find((parameter) => /^charset=/i.test(parameter))
        ?.replace(/^charset=/i, '')
        .replace(/"/g, '');
      return {
        url: url.href,
        status: response.status,
        statusText: statusTextOf(response.status),
        mediaType: type,
        charset,
        body: read.body,
        truncated: read.truncated,
        wireBytes,
        redirects,
      };
    } catch (error) {
      if (timer.aborted && !options.signal.aborted) {
        throw new LegateError('timeout', `fetching ${address} timed out after ${options.settings.timeoutSeconds} s (web.timeout_seconds)`);
      }
      throw error;
    } finally {
      remainingMs -= Date.now() - started;
      release();
    }
  }
}

/** `value` as an http(s) URL (relative to `base` for a redirect); throws `invalid_arguments` naming it otherwise. */
export function parseWebUrl(value: string, base?: URL, what = 'url'): URL {
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    throw new LegateError('invalid_arguments', `${what}: ${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new LegateError('invalid_arguments', `${what}: ${JSON.stringify(value)} is a ${url.protocol} URL; web_fetch reads only http and https`);
  }
  if (url.username || url.password) throw new LegateError('invalid_arguments', `${what}: a URL with credentials in it is not fetched`);
  url.hash = '';
  return url;
}

async function checkHost(url: URL, options: FetchPageOptions): Promise<void> {
  const host = bareHost(url.hostname);
  const decision = domainDecision(host, options.settings);
  if (decision.verdict === 'allow') return;
  if (decision.verdict === 'ask' && options.approve) return options.approve(url.href, host, decision.reason);
  throw new LegateError('sandbox_denied', decision.reason, { host });
}

function statusTextOf(status: number): string {
  return STATUS_CODES[status] ?? '';
}
