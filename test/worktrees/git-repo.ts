import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

/** A git identity for commits made in tests (a fresh CI machine has none). */
export function setGitIdentity(): void {
  process.env.GIT_AUTHOR_NAME = 'legate test';
  process.env.GIT_AUTHOR_EMAIL = 'test@legate.invalid';
  process.env.GIT_COMMITTER_NAME = 'legate test';
  process.env.GIT_COMMITTER_EMAIL = 'test@legate.invalid';
}

export function sh(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' });
}

/** A fresh repository on `main` with one commit holding `shared.txt`; removed when the test ends. */
export function gitRepository(): string {
  const root = mkdtempSync(join(tmpdir(), 'legate-wt-repo-'));
  onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  const repo = join(root, 'repo');
  mkdirSync(repo);
  sh(repo, 'init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'shared.txt'), 'one\ntwo\nthree\n');
  sh(repo, 'add', '-A');
  sh(repo, 'commit', '-q', '-m', 'initial');
  return repo;
}
