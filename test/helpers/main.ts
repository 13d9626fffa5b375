import { PassThrough, Readable, Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { CliResult } from './cli.js';

/**
 * The CLI in this process: `main(argv, streams)` with captured streams, the same arguments and
 * result as `runCli` (HOME and LEGATE_HOME are `home`, the working directory is `cwd`, stdin is
 * `input`). For what a command prints and returns (help, usage, config errors, doctor, tasks,
 * completion); a test about processes (signals, crashes, a TTY, workers, the packed bin) keeps
 * `runCli`/`startCli`.
 *
 * The working directory is the process's own while the command runs, so calls must not overlap
 * (they do not: a file's tests run one after another).
 */
export async function runMain(args: string[], options: { home: string; cwd?: string; env?: Record<string, string>; input?: string }): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', HOME: options.home, LEGATE_HOME: options.home, ...options.env };
  const stdout = capture();
  const stderr = capture();
  const stdin = Readable.from(options.input === undefined || options.input === '' ? [] : [Buffer.from(options.input)]);
  const previous = process.cwd();
  if (running) throw new Error('runMain: calls must not overlap (they share the working directory)');
  running = true;
  process.chdir(options.cwd ?? options.home);
  try {
    const code = await main([process.execPath, 'legate', ...args], { stdout: stdout.stream, stderr: stderr.stream, stdin, env });
    await drained();
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  } catch (error) {
    // What bin/legate.js does with a rejection.
    stderr.stream.write(`legate: ${error instanceof Error ? error.message : String(error)}\n`);
    await drained();
    return { code: 1, stdout: stdout.text(), stderr: stderr.text() };
  } finally {
    process.chdir(previous);
    running = false;
  }
}

let running = false;

/** What was written reaches the captures (a PassThrough may emit on the next tick). */
const drained = (): Promise<void> => new Promise((resolveDrained) => setImmediate(resolveDrained));

function capture(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer | string) => chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

interface MainOptions {
  home: string;
  cwd?: string;
  env?: Record<string, string>;
  input?: string;
}

/**
 * `main(argv, streams)` started, with its stdin open for the test to write; `--cwd` (not the
 * process's directory) carries `cwd`, so a started command may overlap others.
 */
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
