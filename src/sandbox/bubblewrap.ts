import { decide, isWithin, type SandboxSettings } from './policy.js';

/**
 * The bubblewrap command line that runs `command` (with bash -c) in `cwd` under `settings`: the
 * whole file system read-only, the writable roots bound writable (none in `read-only`), `$LEGATE_HOME`
 * under an empty read-only tmpfs and the config file under an empty file, a new /proc and /dev, no network
 * unless the policy allows it, and a new PID namespace so every process the command started dies
 * with it (bwrap is pid 1 there; `--die-with-parent` takes it down when legate kills or loses it).
 * Pure: the caller decided the command may run at all.
 */
export function bubblewrapArgs(settings: SandboxSettings, command: string, cwd: string): string[] {
  const args = ['--new-session', '--die-with-parent', '--unshare-pid'];
  if (decide(settings, { kind: 'network', command }).verdict !== 'allow') args.push('--unshare-net');
  args.push('--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc');
  if (settings.mode === 'workspace-write') {
    for (const root of settings.writableRoots) args.push('--bind', root, root);
  }
  // After the binds: a protected path inside a writable root stays hidden.
  const hiddenDirs = settings.protectedPaths.filter((entry) => entry.present && entry.kind === 'directory').map((entry) => entry.path);
  for (const entry of settings.protectedPaths) {
    if (!entry.present) continue;
    if (entry.kind === 'file' && hiddenDirs.some((dir) => isWithin(entry.path, dir))) continue; // already under an empty tmpfs
    if (entry.kind === 'directory')
      args.push('--tmpfs', entry.path, '--remount-ro', entry.path); // empty, and a write there fails rather than vanishing
    else args.push('--ro-bind', '/dev/null', entry.path);
  }
  // A child's worktree under the hidden home is its workspace: bound again over the empty tmpfs.
  if (settings.worktree !== undefined) args.push(settings.mode === 'workspace-write' ? '--bind' : '--ro-bind', settings.worktree, settings.worktree);
  args.push('--setenv', 'TMPDIR', settings.tempDir, '--chdir', cwd, '--', 'bash', '-c', command);
  return args;
}

/** `argv` as one POSIX shell command line: every word single-quoted. */
export function shellCommandLine(argv: string[]): string {
  return argv.map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
}
