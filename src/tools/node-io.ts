import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, realpath, stat, writeFile } from 'node:fs/promises';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { ToolIO } from './tool.js';

/** How long a process group gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 1_000;
/** After the shell exits, how long to wait for background children to release its output pipes. */
const PIPE_DRAIN_MS = 500;
/** Output kept in memory per command (head and tail); the tool caps it further for the model. */
const MAX_BUFFERED_CHARS = 1_000_000;
/** setTimeout's largest delay; longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real file system and shell of this machine. */
export function createNodeIO(): ToolIO {
  return {
    readFile: (path) => readFile(path, 'utf8'),
    writeFile: (path, content) => writeFile(path, content, 'utf8'),
    async listDir(path) {
      const entries = await readdir(path, { withFileTypes: true });
      return entries.map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name)).sort((a, b) => a.localeCompare(b));
    },
    async stat(path) {
      try {
        const info = await stat(path);
        return { isFile: info.isFile(), isDirectory: info.isDirectory(), size: info.size, links: info.nlink, id: `${info.dev}:${info.ino}` };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        throw error;
      }
    },
    mkdirp: async (path) => {
      await mkdir(path, { recursive: true });
    },
    realPath,
    exec,
  };
}

/**
 * `path` (absolute) with symlinks resolved in its longest existing prefix and the rest appended. A
 * dangling symlink resolves to where it points (writing through it would create that file).
 */
async function realPath(path: string, hops = 0): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const parent = dirname(path);
    if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === path) throw error;
    const link = await lstat(path).catch(() => undefined); // nothing there: the path does not exist (said below)
    if (link?.isSymbolicLink()) {
      if (hops >= 40) throw Object.assign(new Error(`too many levels of symbolic links: ${path}`), { code: 'ELOOP' });
      // Against the parent's real path: `..` in the target climbs from where the link really is.
      return realPath(resolve(await realPath(parent, hops), await readlink(path)), hops + 1);
    }
    return join(await realPath(parent, hops), basename(path));
  }
}

type ExecResult = Awaited<ReturnType<ToolIO['exec']>>;

/**
 * Run `command` with bash (or /bin/sh) in its own process group, stdin closed. The whole group is
 * killed on timeout or abort. Resolves once the shell has exited and its output is drained.
 */
function exec(command: string, options: { cwd: string; timeoutMs: number; signal: AbortSignal }): Promise<ExecResult> {
  const { cwd, timeoutMs, signal } = options;
  if (signal.aborted) {
    return Promise.resolve({ exitCode: null, output: 'command not started: the run was cancelled', timedOut: false });
  }
  return new Promise((resolvePromise) => {
    const output = new BoundedOutput(MAX_BUFFERED_CHARS);
    let timedOut = false;
    let settled = false;
    let exitCode: number | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    const child = spawn(shellPath(), ['-c', command], {
      cwd,
      detached: true, // own process group, so the kill reaches grandchildren too
      stdio: ['ignore', 'pipe', 'pipe'],
    });

    const killGroup = (): void => {
      signalGroup('SIGTERM');
      killTimer ??= setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    const signalGroup = (name: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, name);
      } catch {
        // The group is already gone.
      }
    };
    const onAbort = (): void => killGroup();
    const timeout = setTimeout(
      () => {
        timedOut = true;
        killGroup();
      },
      Math.min(Math.max(timeoutMs, 0), MAX_TIMER_MS),
    );

    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      clearTimeout(drainTimer);
      signal.removeEventListener('abort', onAbort);
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolvePromise({ exitCode, output: output.text(), timedOut });
    };

    signal.addEventListener('abort', onAbort, { once: true });
    for (const stream of [child.stdout, child.stderr]) {
      const decoder = new StringDecoder('utf8');
      stream?.on('data', (chunk: Buffer) => output.append(decoder.write(chunk)));
      stream?.on('end', () => output.append(decoder.end()));
    }
    child.on('error', (error) => {
      output.append(`failed to run command: ${error.message}`);
      finish();
    });
    child.on('exit', (code) => {
      exitCode = code;
      clearTimeout(timeout); // the command finished in time, whatever its background children do
      // A background child (`server &`) may hold the pipes open: don't wait for it forever.
      drainTimer = setTimeout(finish, PIPE_DRAIN_MS);
    });
    child.on('close', finish);
  });
}

let cachedShell: string | undefined;

/** `bash` from PATH, or `/bin/sh` when there is none. */
function shellPath(): string {
  if (cachedShell !== undefined) return cachedShell;
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter(Boolean);
  for (const dir of [...dirs, '/bin', '/usr/bin']) {
    const candidate = join(dir, 'bash');
    try {
      accessSync(candidate, constants.X_OK);
      return (cachedShell = candidate);
    } catch {
      // not here
    }
  }
  return (cachedShell = '/bin/sh');
}

/** Keeps the first and last `limit / 2` characters of a stream of text. */
class BoundedOutput {
  private head = '';
  private tail = '';
  private omitted = 0;

  constructor(private readonly limit: number) {}

  append(text: string): void {
    if (text === '') return;
    const half = this.limit / 2;
    if (this.head.length < half) {
      const room = half - this.head.length;
      this.head += text.slice(0, room);
      text = text.slice(room);
    }
    this.tail += text;
    if (this.tail.length > half) {
      this.omitted += this.tail.length - half;
      this.tail = this.tail.slice(this.tail.length - half);
    }
  }

  text(): string {
    if (this.omitted === 0) return this.head + this.tail;
    return `${this.head}\n[... ${this.omitted} characters omitted ...]\n${this.tail}`;
  }
}
