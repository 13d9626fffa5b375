import { rmSync } from 'node:fs';
import { afterEach } from 'vitest';
import { type ScriptedServer, type ScriptedStep, startScriptedServer } from '../../src/testing/scripted-server.js';
import { tempHome } from '../helpers/cli.js';

const servers: ScriptedServer[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A scripted model server, closed after the test (`models`: what its model list says). */
export async function scriptedServer(steps: ScriptedStep[] = [], models?: string[]): Promise<ScriptedServer> {
  const server = await startScriptedServer({ steps, ...(models ? { models } : {}) });
  servers.push(server);
  return server;
}

/** `tempHome`, removed after the test. */
export function home(config?: Record<string, unknown>): ReturnType<typeof tempHome> {
  const made = tempHome(config);
  dirs.push(made.home, made.work);
  return made;
}

/** A base URL where nothing listens: a port that was free a moment ago. */
export async function closedPortUrl(): Promise<string> {
  const server = await startScriptedServer();
  const url = server.url;
  await server.close();
  return url;
}
