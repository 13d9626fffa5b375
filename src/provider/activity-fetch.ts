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
 * The body of each error response, by the headers object of the response the SDK read: the SDKs
 * keep a body's text only when it has an `error` key, so vLLM's top-level `{object: "error",
 * message}` became "400 status code (no body)" and its context-length text was lost.
 */
const errorBodies = new WeakMap<Headers, string>();

/** The text of the error response whose headers an SDK error carries, if it was read through `activityFetch`. */
export function errorBodyOf(headers: unknown): string | undefined {
  return headers instanceof Headers ? errorBodies.get(headers) : undefined;
}

/** An error response, its body kept for `errorBodyOf` (error bodies are small: read whole). */
async function keepingErrorBody(response: Response): Promise<Response> {
  if (response.ok || !response.body) return response;
  const text = await response.text();
  const copy = new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
  errorBodies.set(copy.headers, text);
  return copy;
}

/** A `fetch` for SDK clients that reports body bytes to the attempt its header names. */
export async function activityFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const headers = new Headers(init?.headers);
  const tag = headers.get(activityHeader);
  if (tag === null) return keepingErrorBody(await fetch(input, init));
  headers.delete(activityHeader);
  const touch = touches.get(tag);
  const response = await fetch(input, { ...init, headers });
  if (!response.ok) return keepingErrorBody(response);
  if (!touch || !response.body) return response;
  const reader = response.body.getReader();
  const counted = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      touch();
      controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return new Response(counted, { status: response.status, statusText: response.statusText, headers: response.headers });
}
