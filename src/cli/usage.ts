import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { CommanderError } from 'commander';
import { LegateError } from '../errors.js';

/**
 * The exit code for an error that ends a command: 2 for usage errors (commander's own, a bad option
 * value or argument, invalid config), 1 for everything else.
 */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  return error instanceof LegateError && (error.code === 'invalid_arguments' || error.code.startsWith('config')) ? 2 : 1;
}

/** `--cwd DIR` as an absolute path, refused (a usage error naming it) unless it is an existing directory. */
export function checkedCwd(dir: string): string {
  const path = resolve(dir);
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) throw new LegateError('invalid_arguments', `--cwd: no such directory "${path}"`);
  if (!stat.isDirectory()) throw new LegateError('invalid_arguments', `--cwd: "${path}" is not a directory`);
  return path;
}
