import { existsSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resolvePath } from '../tools/paths.js';
import { type CredentialSettings, hiddenCredentialPaths } from './credentials.js';
import type { SandboxMode } from './modes.js';
import { isWithin, type ProtectedPath, type SandboxSettings } from './policy.js';

export interface SandboxSettingsInput {
  mode: SandboxMode;
  /** The working directory: the first writable root. */
  cwd: string;
  /** `$LEGATE_HOME`. */
  home: string;
  /** The config file read (`--config` or the default), if any. */
  configFile: string | undefined;
  /** `sandbox.writable_roots`: absolute, `~/…`, or relative to the working directory. */
  writableRoots: string[];
  network: boolean;
  /** The private temporary directory: a real path; it may not exist yet (created before the first command). */
  tempDir: string;
  /** `sandbox.deny_read` / `sandbox.allow_read` (and the user's home, for tests): which credentials are hidden. */
  credentials?: CredentialSettings;
}

/**
 * The policy's settings for an agent, with every path made real (symlinks resolved, so `/tmp` on
 * macOS is `/private/tmp`). Writable roots that do not exist are left out (nothing to bind); the
 * private temporary directory is kept as given.
 */
export function sandboxSettings(input: SandboxSettingsInput): SandboxSettings {
  const roots = [input.cwd, ...input.writableRoots.map((root) => resolvePath(root, input.cwd))];
  const writableRoots = [...new Set([...roots.filter((root) => existsSync(root)).map((root) => realpathSync(root)), input.tempDir])];
  const protectedPaths: ProtectedPath[] = [];
  for (const [path, kind] of [
    [input.home, 'directory'],
    [input.configFile, 'file'],
  ] as const) {
    if (path === undefined) continue;
    if (!existsSync(path)) {
      protectedPaths.push({ path: resolvePath(path, input.cwd), kind, present: false });
      continue;
    }
    protectedPaths.push({ path: realpathSync(path), kind: statSync(path).isDirectory() ? 'directory' : 'file', present: true });
  }
  // A child's worktree under `$LEGATE_HOME/worktrees/` is its workspace: open although the home is not.
  const cwd = existsSync(input.cwd) ? realpathSync(input.cwd) : input.cwd;
  const worktrees = join(protectedPaths[0]!.path, 'worktrees');
  const worktree = isWithin(cwd, worktrees) && cwd !== worktrees ? { worktree: cwd } : {};
  // Credentials are hidden where they exist (bubblewrap mounts over what exists; what does not exist has nothing to read).
  for (const path of hiddenCredentialPaths(input.credentials ?? { denyRead: [], allowRead: [] }, input.cwd)) {
    if (!existsSync(path)) continue;
    protectedPaths.push({ path: realpathSync(path), kind: statSync(path).isDirectory() ? 'directory' : 'file', present: true, holds: 'credentials' });
  }
  return { mode: input.mode, writableRoots, protectedPaths, network: input.network, tempDir: input.tempDir, ...worktree };
}
