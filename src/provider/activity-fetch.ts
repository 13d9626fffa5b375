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
 * The bodies of error responses, for the SDK errors that lost them: the SDKs keep a body's text
 * only when it has an `error` key, so vLLM's top-level `{object: "error", message}` became "400
 * status code (no body)" and its context-length text was lost. Each kept body is named by a header
 * on the response the SDK reads (`errorBodyHeader`), not by the headers object's identity: a
 * `Response` replaced by another library (@hono/node-server installs its own global one) may hand
 * out a new headers object on each read. The newest `keptErrorBodies` are kept.
 */
export const errorBodyHeader = 'x-legate-error-body';
const keptErrorBodies = 64;
const errorBodies = new Map<string, string>();
let nextBody = 0;

/** The text of the error response whose headers an SDK error carries, if it was read through `activityFetch`. */
export function errorBodyOf(headers: unknown): string | undefined {
  const id = typeof (headers as Headers | undefined)?.get === 'function' ? (headers as Headers).get(errorBodyHeader) : null;
  return id === null ? undefined : errorBodies.get(id);
}

/** An error response, its body kept for `errorBodyOf` (error bodies are small: read whole). */
async function keepingErrorBody(response: Response): Promise<Response> {
  if (response.ok || !response.body) return response;
  const text = await response.text();
  const id = String(++nextBody);
  errorBodies.set(id, text);
  if (errorBodies.size > keptErrorBodies) errorBodies.delete(errorBodies.keys().next().value!);
  const headers = new Headers(response.headers);
  headers.set(errorBodyHeader, id);
  return new Response(text, { status: response.status, statusText: response.statusText, headers });
}

/**
 * A `fetch` for SDK clients that reports body bytes to the attempt its header names. Both SDKs read
 * a streamed body with `for await` over `response.body`: the body's own async iterator is wrapped
 * (touch per chunk) instead of piping it through a second stream and `Response`, which cost about
 * 0.3 ms of CPU per call (bench/README.md, issue 30 findings). A body read another way (`text()` of an error) is not
 * counted: nothing waits on its liveness but the timer already running.
 */
export async function activityFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const headers = init?.headers instanceof Headers ? init.headers : new Headers(init?.headers);
  const tag = headers.get(activityHeader);
  if (tag === null) return keepingErrorBody(await fetch(input, init));
  headers.delete(activityHeader);
  const touch = touches.get(tag);
  const response = await fetch(input, { ...init, headers });
  if (!response.ok) return keepingErrorBody(response);
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
