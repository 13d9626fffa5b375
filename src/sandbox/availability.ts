import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { confinementArgs, sandboxIdentity } from './bubblewrap.js';
import type { OsSandboxStatus } from './policy.js';

const installHint = {
  linux: 'install bubblewrap (Debian/Ubuntu: sudo apt install bubblewrap; Fedora: sudo dnf install bubblewrap; Arch: sudo pacman -S bubblewrap)',
  other: 'run legate on Linux (bubblewrap) or macOS (Seatbelt)',
};
const orMode = 'or choose --sandbox danger-full-access (agent.sandbox in config.yaml) to run commands unsandboxed';

let cached: OsSandboxStatus | undefined;

/**
 * Whether commands can run in an OS sandbox here: on Linux, a `bwrap` on PATH that can actually
 * create its namespaces (a trial run: some kernels or AppArmor profiles forbid unprivileged user
 * namespaces); on macOS, `/usr/bin/sandbox-exec`. Probed once per process; the reason of an
 * unavailable sandbox says what to install or which mode to choose.
 */
export function osSandboxStatus(env: NodeJS.ProcessEnv = process.env): OsSandboxStatus {
  if (cached) return cached;
  return (cached = probe(env));
}

function probe(env: NodeJS.ProcessEnv): OsSandboxStatus {
  if (process.platform === 'darwin') {
    const executable = '/usr/bin/sandbox-exec';
    if (isExecutable(executable)) return { available: true, kind: 'seatbelt', executable };
    return { available: false, reason: `the OS sandbox is not available: ${executable} is missing; ${orMode}` };
  }
  if (process.platform !== 'linux') {
    return { available: false, reason: `the OS sandbox is not available on ${process.platform}: ${installHint.other}, ${orMode}` };
  }
  const executable = findOnPath('bwrap', env);
  if (!executable) return { available: false, reason: `the OS sandbox is not available: bwrap was not found on PATH; ${installHint.linux}, ${orMode}` };
  const trial = spawnSync(
    executable,
    // The same confinement a command gets: a bwrap without --disable-userns (before 0.8) or a kernel without user namespaces is no sandbox.
    [
      '--die-with-parent',
      ...confinementArgs(sandboxIdentity()),
      '--unshare-pid',
      '--unshare-net',
      '--ro-bind',
      '/',
      '/',
      '--dev',
      '/dev',
      '--proc',
      '/proc',
      'true',
    ],
    {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  if (trial.status === 0) return { available: true, kind: 'bubblewrap', executable };
  const why = (trial.stderr || trial.error?.message || `exit code ${trial.status}`).trim();
  return {
    available: false,
    reason:
      `the OS sandbox is not available: ${executable} cannot create its namespaces here (${why})` +
      `; allow unprivileged user namespaces (e.g. sysctl kernel.unprivileged_userns_clone=1, or an AppArmor profile for bwrap), ${orMode}`,
  };
}

function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const dirs = (env['PATH'] ?? '').split(delimiter).filter(Boolean);
  for (const dir of [...dirs, '/usr/bin', '/bin']) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    // bwrap missing or refused: not available, the caller says which
    return false;
  }
}

/** One line for `legate doctor`: the mode and whether commands can run in it here. */
export function describeSandbox(mode: string, status: OsSandboxStatus = osSandboxStatus()): string {
  if (mode === 'danger-full-access') return `${mode} (no sandbox: commands and file tools have your full access)`;
  if (status.available) return `${mode}; OS sandbox: ${status.kind} (${status.executable}) available`;
  return `${mode}; OS sandbox NOT available, terminal commands will be refused: ${status.reason}`;
}
