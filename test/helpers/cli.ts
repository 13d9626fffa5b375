import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';
import { stringify } from 'yaml';

const bin = resolve(import.meta.dirname, '../../bin/legate.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const fileDirs: string[] = [];
afterAll(() => removeDirs(fileDirs.splice(0)));

// A CLI still running when its file's tests end (a test that failed before stopping its worker)
// is killed, so that it does not outlive the run, polling a store or a Redis for good.
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
});

function removeDirs(dirs: string[]): void {
  // A CLI the test killed may still be writing: retry, and never fail the test over cleanup (the run's temp root is removed anyway).
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // left for the run's temp root
    }
  }
}

/**
 * A temp directory, removed when the current test finishes (or, made outside a test, when the file's tests finish).
 * For anything a test makes under `os.tmpdir()`.
 */
export function tempDir(prefix = 'legate-tmp-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    onTestFinished(() => removeDirs([dir]));
  } catch {
    fileDirs.push(dir);
  }
  return dir;
}

/** A temp LEGATE_HOME (and a work dir) for one test; both are removed when the test finishes. */
export function tempHome(config?: Record<string, unknown>): { home: string; work: string; configFile: string } {
  const home = tempDir('legate-home-');
  const work = tempDir('legate-work-');
  const configFile = join(home, 'config.yaml');
  if (config) writeFileSync(configFile, stringify(config));
  return { home, work, configFile };
}

/** A config for the scripted server at `baseUrl` (OpenAI wire unless told otherwise). */
export function scriptedConfig(baseUrl: string, extra: Record<string, unknown> = {}, model: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: { provider: 'openai', name: 'parent-model', base_url: baseUrl, api_key: 'sk-test-parent-0001', max_retries: 0, ...model },
    ...extra,
  };
}

export interface RunningCli {
  /** Resolves when the process exits. */
  done: Promise<CliResult>;
  stdout(): string;
  stderr(): string;
  write(text: string): void;
  end(): void;
  kill(signal?: NodeJS.Signals): void;
  pid: number | undefined;
}

/** Start the real CLI (`bin/legate.js`) as a child process. */
export function startCli(args: string[], options: { home: string; cwd?: string; env?: Record<string, string>; input?: string }): RunningCli {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: options.home,
    LEGATE_HOME: options.home,
    ...options.env,
  };
  const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd ?? options.home, env, stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  child.on('close', () => running.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  if (options.input !== undefined) child.stdin.end(options.input);
  const done = new Promise<CliResult>((resolveDone) => {
    child.on('close', (code) => resolveDone({ code, stdout, stderr }));
    // A spawn that fails (e.g. its cwd is gone: a timed-out test whose dirs were already removed) is a result, not an uncaught error.
    child.on('error', (error) => resolveDone({ code: null, stdout, stderr: `${stderr}spawn failed: ${error.message}\n` }));
  });
  return {
    done,
    stdout: () => stdout,
    stderr: () => stderr,
    write: (text) => child.stdin.write(text),
    end: () => child.stdin.end(),
    kill: (signal = 'SIGTERM') => child.kill(signal),
    pid: child.pid,
  };
}

/** Run the real CLI to completion. */
export function runCli(args: string[], options: { home: string; cwd?: string; env?: Record<string, string>; input?: string }): Promise<CliResult> {
  return startCli(args, { input: '', ...options }).done;
}

/** Wait until `predicate` holds, polling. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 25));
  }
}
