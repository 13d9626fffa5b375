import { afterEach } from 'vitest';

/** Something a test opens and must close: a runtime, a scripted server, a store. */
export interface Closable {
  close(): Promise<unknown> | unknown;
}

/**
 * Registers an `afterEach` that closes what the test tracked, newest first (a runtime before the
 * server its children talk to), and returns `track`, which registers a resource and returns it:
 * `server = track(await startScriptedServer())`, `runtime = track(new Runtime(…))`.
 */
export function closedAfterEach(): <T extends Closable>(resource: T) => T {
  const opened: Closable[] = [];
  afterEach(async () => {
    for (const resource of opened.splice(0).reverse()) await resource.close();
  });
  return (resource) => {
    opened.push(resource);
    return resource;
  };
}
