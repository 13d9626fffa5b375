import { PassThrough, Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { CliResult } from './cli.js';

/**
 * `legate ARGS` run in this process through `main(argv, streams)`: stdout and stderr collected, stdin
 * `input` (else empty), `LEGATE_HOME=home`, and `--cwd work` when given. For commands whose test is not
 * about processes (signals, crashes): no child process, no dist/ build.
 */
export function runMain(args: string[], options: MainOptions): Promise<CliResult> {
  const running = startMain(args, options);
  running.stdin.end(options.input ?? '');
  return running.done;
}

interface MainOptions {
  home: string;
  cwd?: string;
  env?: Record<string, string>;
  input?: string;
}

/** `main(argv, streams)` started, with its stdin open for the test to write (`runMain` ends it at once). */
export function startMain(args: string[], options: MainOptions): { stdin: PassThrough; stdout(): string; stderr(): string; done: Promise<CliResult> } {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (into: string[]): Writable =>
    new Writable({
      write(chunk, _encoding, done) {
        into.push(String(chunk));
        done();
      },
    });
  const stdin = new PassThrough();
  const env = { PATH: process.env.PATH, HOME: options.home, LEGATE_HOME: options.home, NO_COLOR: '1', ...options.env };
  const cwd = options.cwd === undefined ? [] : ['--cwd', options.cwd];
  const done = main(['node', 'legate', ...cwd, ...args], { stdout: sink(out), stderr: sink(err), stdin, env }).then((code) => ({
    code,
    stdout: out.join(''),
    stderr: err.join(''),
  }));
  return { stdin, stdout: () => out.join(''), stderr: () => err.join(''), done };
}
