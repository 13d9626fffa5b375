import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LegateError } from '../errors.js';

/** What one `git` invocation printed; `code` is its exit status (0 on success). */
export interface GitOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/**
 * Runs the `git` CLI in `cwd` with `args`. Never throws for a non-zero exit (the caller reads
 * `code`); throws `git_missing` when no `git` executable can be started.
 */
export function runGit(cwd: string, args: readonly string[]): Promise<GitOutput> {
  return new Promise((resolve, reject) => {
    execFile('git', [...args], { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT' && existsSync(cwd)) {
        reject(new LegateError('git_missing', `git_missing: no "git" executable on PATH (cwd "${cwd}")`));
        return;
      }
      // A missing cwd is an exit like any other (code 128, git's own status for "not a repository").
      const status = error ? Number((error as { code?: unknown }).code ?? 1) : 0;
      resolve({ stdout, stderr: stderr || String(error?.message ?? ''), code: Number.isFinite(status) ? status : 128 });
    });
  });
}

/** Like `runGit`, but a non-zero exit throws an error naming the command and git's message. */
export async function git(cwd: string, args: readonly string[]): Promise<string> {
  const out = await runGit(cwd, args);
  if (out.code !== 0) {
    throw new Error(`git ${args.join(' ')} failed in "${cwd}": ${out.stderr.trim() || out.stdout.trim()}`);
  }
  return out.stdout;
}
