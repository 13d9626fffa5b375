import { rmSync } from 'node:fs';
import { afterEach } from 'vitest';
import { type ScriptedServer, type ScriptedStep, startScriptedServer } from '../../src/testing/scripted-server.js';

const dirs: string[] = [];
const servers: ScriptedServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Removes a `tempHome()`'s directories after the test. */
export function cleanupLater<T extends { home: string; work: string }>(made: T): T {
  dirs.push(made.home, made.work);
  return made;
}

/** A scripted model server, closed after the test. */
export async function scriptedServer(steps: ScriptedStep[] = []): Promise<ScriptedServer> {
  const server = await startScriptedServer({ steps });
  servers.push(server);
  return server;
}
