import { activityFetch, activityTag } from './activity-fetch.js';
import { abortFailure, startFailure, streamFailure, truncatedFailure } from './classify-failure.js';
import { clientCache } from './client-cache.js';
import type { ModelRequest, ProviderEvent } from './types.js';
import type { AttemptOptions, WireAdapter } from './wire-adapter.js';

/** How a wire's reader ends: its final `done` event, or the name of the end marker it never saw. */
export type WireEnd = Extract<ProviderEvent, { type: 'done' }> | { missing: string };

/** What one wire supplies; `defineWireAdapter` does the rest, the same for every wire. */
export interface WireSpec<Client, Chunk> {
  wire: string;
  endpoint: string;
  /** Builds the SDK client (`maxRetries: 0`; `fetch` is the one to pass it). Called once per key. */
  createClient(baseUrl: string, apiKey: string, fetch: typeof activityFetch): Promise<Client>;
  /** Starts the streamed request; rejects when it fails to start. */
  open(client: Client, request: ModelRequest, options: { signal: AbortSignal; headers: Record<string, string> }): Promise<AsyncIterable<Chunk>>;
  /**
   * Folds the SDK's chunks into legate's events: yields deltas, returns the final `done` or what
   * end marker was missing. May throw (the SDK does on a cut or an error event): that is handled here.
   */
  read(chunks: AsyncIterable<Chunk>): AsyncGenerator<ProviderEvent, WireEnd>;
}

/**
 * A `WireAdapter` from a wire's spec: one cached SDK client per (endpoint, key), failures to start
 * classified as `AttemptError`s, every body chunk reported as activity (`activityFetch`), and one
 * end-of-stream rule: a thrown error, an abort or a missing end marker is the stream's last
 * `error` event, so the reader never has to catch.
 */
export function defineWireAdapter<Client, Chunk>(spec: WireSpec<Client, Chunk>): WireAdapter {
  const clientFor = clientCache((baseUrl, apiKey) => spec.createClient(baseUrl, apiKey, activityFetch));
  return {
    wire: spec.wire,
    endpoint: spec.endpoint,
    async attempt(request: ModelRequest, options: AttemptOptions): Promise<AsyncIterable<ProviderEvent>> {
      try {
        const client = await clientFor(spec.endpoint, options.apiKey);
        const tag = activityTag(options.onActivity);
        const chunks = await spec.open(client, request, { signal: options.signal, headers: tag.headers }).finally(tag.release);
        options.onActivity?.();
        return readToEnd(spec.read(chunks), options);
      } catch (error) {
        throw startFailure(error, options.signal);
      }
    },
  };
}

/** Passes the reader's deltas on and turns how it ended into exactly one final event; never throws. */
async function* readToEnd(reader: AsyncGenerator<ProviderEvent, WireEnd>, options: AttemptOptions): AsyncGenerator<ProviderEvent> {
  let end: WireEnd;
  try {
    while (true) {
      const next = await reader.next();
      if (next.done) {
        end = next.value;
        break;
      }
      yield next.value;
    }
  } catch (error) {
    yield { type: 'error', failure: streamFailure(error, options.signal) };
    return;
  }
  // The SDKs end iteration quietly when their request is aborted.
  if (options.signal.aborted) {
    yield { type: 'error', failure: abortFailure(options.signal) };
    return;
  }
  if ('missing' in end) {
    yield { type: 'error', failure: truncatedFailure(end.missing) };
    return;
  }
  yield end;
}
