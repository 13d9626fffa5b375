import { homedir } from 'node:os';
import { isAbsolute, relative, resolve } from 'node:path';

/**
 * Resolve a path argument from the model against the working directory. Absolute paths are kept,
 * `~` and `~/…` expand to the home directory, anything else is relative to `cwd`.
 */
export function resolvePath(path: string, cwd: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return resolve(homedir(), path.slice(2));
  return resolve(cwd, path);
}

/** `path` relative to `cwd` when it lies inside it, absolute otherwise: how results name files. */
export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  if (rel === '') return '.';
  if (rel.startsWith('..') || isAbsolute(rel)) return path;
  return rel;
}
