import type { ErrorBody } from '../view-types.js';

/** The page's key for the token header of its POSTs (the server put it in the page). */
function pageKey(): string {
  return document.querySelector('meta[name="legate-page-key"]')?.getAttribute('content') ?? '';
}

/** An API error: `message` is the same text the CLI prints (`task_not_running: …`). */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function parse<T>(response: Response): Promise<T> {
  const body: unknown = await response.json().catch(() => undefined); // not JSON: the status below is the error
  if (!response.ok) {
    const error = (body as ErrorBody | undefined)?.error;
    throw new ApiError(error?.code ?? String(response.status), error?.message ?? `HTTP ${response.status}`);
  }
  return body as T;
}

export async function getJson<T>(path: string): Promise<T> {
  return parse<T>(await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } }));
}

export async function postJson<T>(path: string, body: unknown = {}): Promise<T> {
  return parse<T>(
    await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-legate-token': pageKey() },
      body: JSON.stringify(body),
    }),
  );
}
