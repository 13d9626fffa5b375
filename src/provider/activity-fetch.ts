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

/** A `fetch` for SDK clients that reports body bytes to the attempt its header names. */
export async function activityFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const headers = new Headers(init?.headers);
  const tag = headers.get(activityHeader);
  if (tag === null) return fetch(input, init);
  headers.delete(activityHeader);
  const touch = touches.get(tag);
  const response = await fetch(input, { ...init, headers });
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
