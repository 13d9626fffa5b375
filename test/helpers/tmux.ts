import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';

const bin = resolve(import.meta.dirname, '../../bin/legate.js');

/**
 * Whether tmux can be used. Tests that need it skip with one line when it is missing, except under
 * `CI=true`, where a missing tmux is a failure (the screen tests must run there).
 */
export function tmuxAvailable(): boolean {
  const found = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
  if (!found && process.env.CI === 'true') throw new Error('tmux is required under CI=true for the terminal tests (apt-get install tmux)');
  if (!found) process.stderr.write('skipping terminal tests: tmux is not installed\n');
  return found;
}

export interface TmuxScreen {
  /** The tmux session name (one private server socket per screen). */
  name: string;
  /** The visible pane plus scrollback, plain text, trailing blank lines dropped. */
  capture(options?: { escapes?: boolean }): string;
  /** Keys as tmux names them (`Enter`, `C-c`, `BSpace`) or, with `literal`, text typed as is. */
  keys(...keys: string[]): void;
  type(text: string): void;
  /** Paste `text` as a terminal does (bracketed, when the program asked for it). */
  paste(text: string): void;
  /** Resize the window; returns once the pane's tty has the new size (the program got SIGWINCH). */
  resize(width: number, height: number): void;
  /**
   * Run `work` (keys, a resize) while the program is stopped (SIGSTOP … SIGCONT), so that all it
   * caused is waiting for the program at once when it continues: a key and a SIGWINCH in one turn
   * of its event loop.
   */
  whileStopped(work: () => void): void;
  /** Wait until the screen satisfies `predicate` (polling); the error shows the last screen. */
  waitFor(predicate: (screen: string) => boolean, what: string, timeoutMs?: number, options?: { escapes?: boolean }): Promise<string>;
  /** Resolves with the exit code once the command has ended (the pane stays, `remain-on-exit`). */
  waitForExit(timeoutMs?: number): Promise<number>;
  /** True while the command runs. */
  alive(): boolean;
  kill(): void;
}

/**
 * Start the real CLI (`bin/legate.js ARGS`) in a detached tmux pane of `width` x `height`, with a
 * private tmux server so tests never touch the user's sessions. The pane stays after the command
 * exits so its last screen and exit status can be read.
 */
export function startTmux(args: string[], options: { cwd: string; env: Record<string, string>; width?: number; height?: number }): TmuxScreen {
  const name = `legate-${randomBytes(4).toString('hex')}`;
  const socket = ['-L', name];
  const tmux = (...rest: string[]): string => execFileSync('tmux', [...socket, ...rest], { encoding: 'utf8' });
  const env = { TERM: 'xterm-256color', ...options.env };
  const command = [
    'env',
    '-i',
    ...Object.entries({ PATH: process.env.PATH ?? '', ...env }).map(([key, value]) => `${key}=${value}`),
    process.execPath,
    bin,
    ...args,
  ]
    .map(shellQuote)
    .join(' ');
  // remain-on-exit must be set before the command can end: start a shell-less placeholder, set it, respawn.
  tmux(
    '-f',
    '/dev/null',
    'new-session',
    '-d',
    '-s',
    name,
    '-x',
    String(options.width ?? 120),
    '-y',
    String(options.height ?? 40),
    '-c',
    options.cwd,
    'sleep 600',
  );
  tmux('set-option', '-t', name, 'remain-on-exit', 'on');
  tmux('set-option', '-t', name, 'history-limit', '5000');
  tmux('respawn-pane', '-k', '-t', name, '-c', options.cwd, command);

  const capture = (captureOptions: { escapes?: boolean } = {}): string => {
    const text = tmux('capture-pane', '-p', '-J', '-S', '-', ...(captureOptions.escapes ? ['-e'] : []), '-t', name);
    return text.replace(/\s+$/, '');
  };
  const paneValue = (format: string): string => tmux('display-message', '-p', '-t', name, format).trim();
  const alive = (): boolean => {
    try {
      return paneValue('#{pane_dead}') === '0';
    } catch {
      return false;
    }
  };
  const waitFor = async (
    predicate: (screen: string) => boolean,
    what: string,
    timeoutMs = 15_000,
    waitOptions: { escapes?: boolean } = {},
  ): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    for (;;) {
      screen = capture(waitOptions);
      if (predicate(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the screen:\n${screen}`);
      await new Promise((resolveWait) => setTimeout(resolveWait, 50));
    }
  };
  return {
    name,
    capture,
    keys: (...keys) => void tmux('send-keys', '-t', name, ...keys),
    type: (text) => void tmux('send-keys', '-t', name, '-l', text),
    paste: (text) => {
      tmux('set-buffer', '-b', 'paste', text);
      tmux('paste-buffer', '-p', '-d', '-b', 'paste', '-t', name);
    },
    resize: (width, height) => {
      tmux('resize-window', '-t', name, '-x', String(width), '-y', String(height));
      // tmux sets the pty's size (which sends SIGWINCH) a moment after it answers: wait for it, so
      // the program has its signal pending when this returns.
      const tty = paneValue('#{pane_tty}');
      const deadline = Date.now() + 5_000;
      while (execFileSync('stty', ['-F', tty, 'size'], { encoding: 'utf8' }).trim() !== `${height} ${width}`) {
        if (Date.now() > deadline) throw new Error(`the pane's tty ${tty} did not take the size ${width}x${height}`);
      }
    },
    whileStopped: (work) => {
      // `env -i … node` execs node: the pane's process is the program itself.
      const pid = Number(paneValue('#{pane_pid}'));
      process.kill(pid, 'SIGSTOP');
      try {
        work();
      } finally {
        process.kill(pid, 'SIGCONT');
      }
    },
    waitFor,
    waitForExit: async (timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      while (alive()) {
        if (Date.now() > deadline) throw new Error(`the command still runs after ${timeoutMs} ms; the screen:\n${capture()}`);
        await new Promise((resolveWait) => setTimeout(resolveWait, 50));
      }
      return Number(paneValue('#{pane_dead_status}'));
    },
    alive,
    kill: () => {
      try {
        tmux('kill-server');
      } catch {
        // Already gone.
      }
    },
  };
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Lines of `screen` that contain `needle`. */
export function linesWith(screen: string, needle: string | RegExp): string[] {
  return screen.split('\n').filter((line) => (typeof needle === 'string' ? line.includes(needle) : needle.test(line)));
}
