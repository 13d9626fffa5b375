import { resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';
import * as acp from '@agentclientprotocol/sdk';
import { createAcpAgent } from '../acp/agent-server.js';
import { errorMessage } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { TaskStore } from '../tasks/store/task-store.js';
import { type GlobalOptions, loadFor, openRuntime, openStore, type Streams, storeWarning } from './context.js';
import { armStopBound, stopBoundSeconds } from './stop-bound.js';

/**
 * `legate acp`: serve legate to an ACP client (Zed, JetBrains, Neovim, Emacs…) over stdio until it
 * disconnects. stdout is the ACP channel; diagnostics go to stderr. Each session's `cwd` is its
 * agent's working directory: one runtime per directory, all on this LEGATE_HOME's task store.
 */
export async function acpCommand(options: GlobalOptions, streams: Streams): Promise<number> {
  const say = (line: string): void => void streams.stderr.write(`legate acp: ${line}\n`);
  // Opened now, so a config problem shows at once rather than at the first session.
  const store = await openStore(loadFor(options, streams), streams.env, storeWarning(streams));
  // agent.approval defaults to on-request, as in chat: the editor's user answers.
  const home = await openRuntime(options, streams, { store: sharedStore(store), approval: 'on-request' }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  const runtimes = new Map<string, Promise<Runtime>>([[home.cwd, Promise.resolve(home)]]);
  const runtimeFor = (cwd: string): Promise<Runtime> => {
    const dir = resolve(cwd);
    let runtime = runtimes.get(dir);
    if (!runtime) {
      runtime = openRuntime({ ...options, cwd: dir }, streams, { store: sharedStore(store), approval: 'on-request' });
      runtimes.set(dir, runtime);
      runtime.catch(() => runtimes.delete(dir));
    }
    return runtime;
  };
  const agent = createAcpAgent({ runtimeFor, log: say });
  const connection = agent.app.connect(
    acp.ndJsonStream(
      Writable.toWeb(streams.stdout as Writable) as WritableStream<Uint8Array>,
      Readable.toWeb(streams.stdin as Readable) as ReadableStream<Uint8Array>,
    ),
  );
  let disarm = (): void => {};
  // A signal's stop is bounded (tasks.lease_seconds + 5 s), whatever the store and the model server do.
  const stop = (): void => {
    disarm = armStopBound(stopBoundSeconds(home.config.tasks.lease_seconds), (line) => void streams.stderr.write(`${line}\n`));
    connection.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  say(`serving on stdio (${home.cwd})`);
  try {
    await connection.closed;
    return 0;
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    agent.close();
    // Running tasks are handed back as interrupted (legate worker or legate tasks resume continue them).
    for (const [dir, runtime] of runtimes) {
      if (dir === home.cwd) continue;
      await runtime.then((opened) => opened.close()).catch((error: unknown) => say(`closing the runtime of ${dir}: ${errorMessage(error)}`));
    }
    await home.close();
    await store.close();
    disarm();
  }
}

/** The one store of this process, for each directory's runtime: closing a runtime leaves it open. */
function sharedStore(store: TaskStore): TaskStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'close') return async () => {};
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
