import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Byte-level liveness for the idle timeout. The SDKs parse SSE before we see an event, and drop
 * what carries no data (`: keep-alive` comments, blank keep-alive lines), so a stream that only
 * pings would look stalled. The SDK clients are built with `activityFetch`: every chunk of a
 * response body calls the `touch` of the attempt that made the request, found through
 * `withActivity` (an AsyncLocalStorage scope around the SDK call, since clients are shared).
 */
const currentTouch = new AsyncLocalStorage<() => void>();

/** Runs `start` (an SDK call) so that every response byte it receives calls `touch`. */
export function withActivity<T>(touch: (() => void) | undefined, start: () => Promise<T>): Promise<T> {
  return touch ? currentTouch.run(touch, start) : start();
}

/** A `fetch` for SDK clients that reports body bytes to the attempt in scope. */
export async function activityFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const touch = currentTouch.getStore();
  const response = await fetch(input, init);
  if (!touch || !response.body) return response;
  const counted = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        touch();
        controller.enqueue(chunk);
      },
    }),
  );
  return new Response(counted, { status: response.status, statusText: response.statusText, headers: response.headers });
}
