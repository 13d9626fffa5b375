/**
 * Byte-level liveness for the idle timeout. The SDKs parse SSE before we see an event, and drop
 * what carries no data (`: keep-alive` comments, blank keep-alive lines), so a stream that only
 * pings would look stalled. The SDK clients are built with `activityFetch`: every chunk of a
 * response body calls the `touch` of the attempt that made the request. Clients are shared, so the
 * attempt is named by a request header (`activityHeader`, taken off before the request is sent)
 * that `activityTag` registers for the time the SDK call takes to start.
 *
 * Not an AsyncLocalStorage scope: on Node 20 one installs promise hooks that every promise of the
 * process then pays for (measured: about 20 % of legate's CPU per child in the fan-out bench).
 */
export const activityHeader = 'x-legate-activity';

const touches = new Map<string, () => void>();
let nextTag = 0;

/** A header naming `touch` for `activityFetch`, and `release` once the request has started (or failed to). */
export function activityTag(touch: (() => void) | undefined): { headers: Record<string, string>; release(): void } {
  if (!touch) return { headers: {}, release: () => {} };
  const tag = String(++nextTag);
  touches.set(tag, touch);
  return { headers: { [activityHeader]: tag }, release: () => touches.delete(tag) };
}

/**
 * A `fetch` for SDK clients that reports body bytes to the attempt its header names. Both SDKs read
 * a streamed body with `for await` over `response.body`: the body's own async iterator is wrapped
 * (touch per chunk) instead of piping it through a second stream and `Response`, which cost about
 * 0.3 ms of CPU per call (bench/RESULTS.md). A body read another way (`text()` of an error) is not
 * counted: nothing waits on its liveness but the timer already running.
 */
export async function activityFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const headers = init?.headers instanceof Headers ? init.headers : new Headers(init?.headers);
  const tag = headers.get(activityHeader);
  if (tag === null) return fetch(input, init);
  headers.delete(activityHeader);
  const touch = touches.get(tag);
  const response = await fetch(input, { ...init, headers });
  if (touch && response.body) touchingChunks(response.body, touch);
  return response;
}

/** Makes `for await (const chunk of body)` call `touch` for every chunk read. */
function touchingChunks(body: ReadableStream<Uint8Array>, touch: () => void): void {
  const values = body[Symbol.asyncIterator].bind(body);
  const counted = (result: IteratorResult<Uint8Array>): IteratorResult<Uint8Array> => {
    if (!result.done) touch();
    return result;
  };
  Object.defineProperty(body, Symbol.asyncIterator, {
    configurable: true,
    value: (options?: { preventCancel?: boolean }): AsyncIterableIterator<Uint8Array> => {
      const inner = values(options);
      return {
        next: () => inner.next().then(counted),
        return: () => inner.return?.() ?? Promise.resolve({ done: true, value: undefined }),
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    },
  });
}
