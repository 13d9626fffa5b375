import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import { resolveEndpoints } from '../config/endpoints.js';
import type { LoadedConfig } from '../config/load.js';
import { LegateError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { secretValues } from '../secrets.js';
import { RedisWorkerRegistry } from '../tasks/store/redis/redis-worker-registry.js';
import { operator, TaskService } from '../tasks/task-service.js';
import { startDashboard } from '../ui/dashboard-server.js';
import { TaskOwnerDirectory } from '../ui/worker-directory.js';
import { WorktreeManager } from '../worktrees/worktree-manager.js';
import { type GlobalOptions, loadFor, openRuntime, openStore, type Streams, sharedStoreUrl, storeWarning } from './context.js';
import { armStopBound, stopBoundSeconds } from './stop-bound.js';

export interface UiOptions extends GlobalOptions {
  port?: string;
  host?: string;
  open?: boolean;
}

/**
 * `legate ui`: serve the live dashboard of this LEGATE_HOME (embedded or shared store) until
 * stopped. Prints the address with its token; binding anything but loopback warns. Reads need no
 * key; resuming a task runs it here, so that opens a runtime (a model, so a key) when first asked.
 */
export async function uiCommand(options: UiOptions, streams: Streams, stopped?: Promise<void>): Promise<number> {
  const port = options.port === undefined ? 4400 : Number(options.port);
  if (options.port !== undefined && (options.port.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65_535))
    throw new LegateError('invalid_arguments', `--port must be a whole number from 0 to 65535 (got "${options.port}")`);
  const host = options.host ?? '127.0.0.1';
  if (host.trim() === '') throw new LegateError('invalid_arguments', '--host must name an address (got "")');
  const loaded = loadFor(options, streams);
  let disarm = (): void => {};
  // A signal's stop is bounded (tasks.lease_seconds + 5 s), whatever the store and the model server do.
  const signalled = untilSignal(() => {
    disarm = armStopBound(stopBoundSeconds(loaded.config.tasks.lease_seconds), (line) => void streams.stderr.write(`${line}\n`));
  });
  const store = await openStore(loaded, streams.env, storeWarning(streams)).catch((error: unknown) => {
    signalled.cancel();
    throw error;
  });
  const tasks = new TaskService({
    store,
    maxConcurrent: loaded.config.delegation.max_concurrent_children,
    runner: { run: (task) => Promise.reject(new LegateError('invalid_arguments', `task "${task.id}" cannot run in the dashboard's reading service`)) },
  });
  const sharedUrl = sharedStoreUrl(loaded.config, streams.env);
  let registry: RedisWorkerRegistry | undefined;
  let runtime: Promise<Runtime> | undefined;
  let dashboard: Awaited<ReturnType<typeof startDashboard>> | undefined;
  try {
    if (sharedUrl !== undefined)
      registry = await RedisWorkerRegistry.open({ url: sharedUrl, prefix: loaded.config.tasks.redis_prefix, connectTimeoutMs: 3_000 });
    dashboard = await startDashboard({
      tasks,
      sessions: store.sessions,
      host,
      port,
      cwd: options.cwd ?? process.cwd(),
      prices: loaded.config.prices,
      secrets: configuredKeys(loaded),
      workers: new TaskOwnerDirectory(tasks, registry),
      worktrees: new WorktreeManager(loaded.home),
      resume: async (id) => {
        await tasks.get(operator, id);
        runtime ??= openRuntime(options, streams, { mcp: true });
        const opened = await runtime.catch((error: unknown) => {
          runtime = undefined;
          throw error;
        });
        return opened.tasks.resume(operator, id);
      },
      answerApproval: (id, answer) => tasks.answerApproval(operator, id, answer, answerer()),
    });
    if (!isLoopback(host))
      streams.stderr.write(
        `legate ui: warning: listening on ${host}, not only this machine: anyone who can reach it and has the token can steer and cancel tasks\n`,
      );
    streams.stdout.write(`legate ui: ${dashboard.url}\n`);
    streams.stderr.write('  open that address (the token is in it); Ctrl-C stops the dashboard\n');
    if (options.open) openBrowser(dashboard.url);
    await (stopped ?? signalled.done);
    return 0;
  } finally {
    signalled.cancel();
    await dashboard?.close();
    await tasks.shutdown();
    await store.close();
    await registry?.close();
    if (runtime) await (await runtime.catch(() => undefined))?.close(); // a runtime that failed to open was reported when it was asked for
    disarm();
  }
}

/** Every configured API key (parent, children, routes), to mask in what the dashboard shows. */
/** The configured keys to mask: real keys only, not placeholders such as `none` (see `secretValues`). */
export function configuredKeys(loaded: LoadedConfig): string[] {
  try {
    const endpoints = resolveEndpoints(loaded);
    return secretValues([endpoints.parent, endpoints.child, ...endpoints.routes.values()].flatMap((endpoint) => endpoint.keys));
  } catch {
    // No usable endpoint (no key configured): nothing to mask.
    return [];
  }
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `done` resolves on Ctrl-C or SIGTERM, after `onSignal`; `cancel` stops listening. */
function untilSignal(onSignal: () => void): { done: Promise<void>; cancel: () => void } {
  let cancel = (): void => {};
  const done = new Promise<void>((resolve) => {
    const signalled = (): void => {
      cancel();
      onSignal();
      resolve();
    };
    cancel = () => {
      process.removeListener('SIGINT', signalled);
      process.removeListener('SIGTERM', signalled);
    };
    process.once('SIGINT', signalled);
    process.once('SIGTERM', signalled);
  });
  return { done, cancel };
}

/** `--open`: the system's browser opener, detached; a failure to open is not the dashboard's. */
function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(command, [url], { detached: true, stdio: 'ignore' });
    child.on('error', () => {});
    child.unref();
  } catch {
    // nothing to open with
  }
}

/** Who answered, as stored with the answer: the user running the dashboard. */
function answerer(): string {
  try {
    return `${userInfo().username} (legate ui)`;
  } catch {
    // no user name (a container's uid): a generic name
    return 'the operator (legate ui)';
  }
}
