import { LegateError } from '../../errors.js';
import { userAgent } from './http-get.js';
import type { SearchSettings } from './web-settings.js';

/** One search result, the same from every backend. */
export interface SearchResult {
  title: string;
  url: string;
  snippet: string;
}

/** Brave's and Tavily's APIs, when `web.search.url` does not name another address. */
export const defaultSearchUrls = {
  brave: 'https://api.search.brave.com/res/v1/web/search',
  tavily: 'https://api.tavily.com/search',
} as const;

/**
 * Ask the configured backend for `query`: SearXNG's JSON API (`GET {url}/search?q=…&format=json`),
 * Brave's web search (`X-Subscription-Token`) or Tavily's (`Authorization: Bearer`). The backend is
 * the operator's configuration, not the model's choice, so it is reached as configured (a SearXNG
 * on localhost included). The key goes only into the request header: an error never quotes it.
 * Throws naming the backend and the HTTP status, or a reply that is not what the API returns.
 */
export async function searchWeb(
  search: SearchSettings,
  query: string,
  maxResults: number,
  signal: AbortSignal,
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<{ results: SearchResult[]; bytes: number }> {
  const request = requestFor(search, query, maxResults);
  const response = await fetch(request.url, { ...request.init, signal, redirect: 'error' });
  const { text, bytes } = await readCapped(response, maxBytes, search.provider);
  if (!response.ok) {
    throw new LegateError(
      'invalid_arguments',
      `${search.provider} search failed: HTTP ${response.status} from ${redactedUrl(request.url)}: ${text.slice(0, 200)}`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new LegateError('invalid_arguments', `${search.provider} search at ${redactedUrl(request.url)} did not answer JSON: ${text.slice(0, 200)}`);
  }
  return { results: resultsOf(search.provider, body).slice(0, maxResults), bytes };
}

function requestFor(search: SearchSettings, query: string, maxResults: number): { url: string; init: RequestInit } {
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': userAgent };
  switch (search.provider) {
    case 'searxng': {
      const url = new URL(`${search.url.replace(/\/+$/, '')}/search`);
      url.searchParams.set('q', query);
      url.searchParams.set('format', 'json');
      return { url: url.href, init: { headers } };
    }
    case 'brave': {
      const url = new URL(search.url ?? defaultSearchUrls.brave);
      url.searchParams.set('q', query);
      url.searchParams.set('count', String(Math.min(maxResults, 20)));
      return { url: url.href, init: { headers: { ...headers, 'x-subscription-token': search.apiKey } } };
    }
    case 'tavily':
      return {
        url: search.url ?? defaultSearchUrls.tavily,
        init: {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json', authorization: `Bearer ${search.apiKey}` },
          body: JSON.stringify({ query, max_results: maxResults }),
        },
      };
  }
}

/** The results of each API's reply: SearXNG `results[].{title,url,content}`, Brave `web.results[].{title,url,description}`, Tavily `results[].{title,url,content}`. */
function resultsOf(provider: SearchSettings['provider'], body: unknown): SearchResult[] {
  const record = (value: unknown): Record<string, unknown> => (value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {});
  const list = provider === 'brave' ? record(record(body).web).results : record(body).results;
  if (!Array.isArray(list)) {
    if (provider === 'brave' && record(body).web === undefined) return []; // Brave leaves `web` out when nothing matched
    throw new LegateError('invalid_arguments', `${provider} search answered JSON without a results list`);
  }
  return list.map(record).map((item) => ({
    title: String(item.title ?? '').trim(),
    url: String(item.url ?? '').trim(),
    snippet: stripTags(String((provider === 'brave' ? item.description : item.content) ?? '')).trim(),
  }));
}

/** Brave marks matches with `<strong>`: plain text for the model. */
function stripTags(text: string): string {
  return text.replace(/<\/?[a-z][^>]*>/gi, '');
}

/** The URL without its query (a search query is the model's; a key is never in it, but keep errors short). */
function redactedUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/** The body as text; throws naming the limit when it is longer than `maxBytes` (`web.max_bytes`). */
async function readCapped(response: Response, maxBytes: number, provider: string): Promise<{ text: string; bytes: number }> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  // Leaving the loop early cancels the stream: the rest of the body is never read.
  for await (const chunk of response.body ?? []) {
    bytes += chunk.length;
    if (bytes > maxBytes) break;
    chunks.push(chunk);
  }
  if (bytes > maxBytes) throw new LegateError('invalid_arguments', `${provider} search answered more than ${maxBytes} bytes (web.max_bytes)`);
  return { text: Buffer.concat(chunks).toString('utf8'), bytes };
}
