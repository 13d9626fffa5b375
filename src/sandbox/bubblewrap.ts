import { decide, isWithin, type SandboxSettings } from './policy.js';

/**
 * Who a sandboxed command is inside its user namespace: the caller's own uid and gid, except that
 * root becomes nobody (65534), so that a command never believes it is root. Outside, the kernel
 * still sees the caller; what keeps root's command in is that it holds no capability (below).
 */
export interface SandboxIdentity {
  uid: number;
  gid: number;
}

export function sandboxIdentity(): SandboxIdentity {
  const uid = process.getuid?.() ?? 65534;
  const gid = process.getgid?.() ?? 65534;
  return uid === 0 ? { uid: 65534, gid: 65534 } : { uid, gid };
}

/**
 * Kernel interfaces under /proc that root may write even with the file system read-only (Docker's
 * read-only list, plus /proc/mtrr and /proc/pressure): bound read-only where they exist.
 */
export const readOnlyProcPaths = ['/proc/sys', '/proc/sysrq-trigger', '/proc/irq', '/proc/bus', '/proc/fs', '/proc/mtrr', '/proc/pressure'];

/**
 * The bubblewrap command line that runs `command` (with bash -c) in `cwd` under `settings`: the
 * whole file system read-only, the writable roots bound writable (none in `read-only`), `$LEGATE_HOME`
 * under an empty read-only tmpfs and the config file under an empty file, a new /proc and /dev, no network
 * unless the policy allows it, and a new PID namespace so every process the command started dies
 * with it (bwrap is pid 1 there; `--die-with-parent` takes it down when legate kills or loses it).
 *
 * Whoever runs legate, root included, the command holds no capability: it runs in a user namespace
 * of its own (`--unshare-user`, as `identity`), with every capability dropped (`--cap-drop ALL`), may
 * not make another user namespace (`--disable-userns`, so `unshare` gains it nothing), and the kernel's
 * writable knobs under /proc are read-only. So `umount` of a mask, `mount -o remount,rw /`, `nsenter`
 * and a write to /proc/sys all fail.
 * Pure: the caller decided the command may run at all.
 */
export function bubblewrapArgs(settings: SandboxSettings, command: string, cwd: string, identity: SandboxIdentity = sandboxIdentity()): string[] {
  const args = ['--new-session', '--die-with-parent', ...confinementArgs(identity), '--unshare-pid'];
  if (decide(settings, { kind: 'network', command }).verdict !== 'allow') args.push('--unshare-net');
  args.push('--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc');
  for (const path of readOnlyProcPaths) args.push('--ro-bind-try', path, path);
  if (settings.mode === 'workspace-write') {
    for (const root of settings.writableRoots) args.push('--bind', root, root);
  }
  // After the binds: a protected path inside a writable root stays hidden. A child's worktree under
  // the hidden home is its workspace: bound again over the empty tmpfs, before what is hidden inside it.
  const worktree = settings.worktree;
  const inWorktree = (path: string): boolean => worktree !== undefined && isWithin(path, worktree);
  const hiddenDirs = settings.protectedPaths.filter((entry) => entry.present && entry.kind === 'directory').map((entry) => entry.path);
  const hide = (entry: (typeof settings.protectedPaths)[number]): void => {
    if (!entry.present) return;
    if (entry.kind === 'file' && hiddenDirs.some((dir) => isWithin(entry.path, dir) && inWorktree(dir) === inWorktree(entry.path))) return; // already under an empty tmpfs
    if (entry.kind === 'directory')
      args.push('--tmpfs', entry.path, '--remount-ro', entry.path); // empty, and a write there fails rather than vanishing
    else args.push('--ro-bind', '/dev/null', entry.path);
  };
  for (const entry of settings.protectedPaths) if (!inWorktree(entry.path)) hide(entry);
  if (worktree !== undefined) args.push(settings.mode === 'workspace-write' ? '--bind' : '--ro-bind', worktree, worktree);
  for (const entry of settings.protectedPaths) if (inWorktree(entry.path)) hide(entry);
  args.push('--setenv', 'TMPDIR', settings.tempDir, '--chdir', cwd, '--', 'bash', '-c', command);
  return args;
}

/** A user namespace of the command's own, as `identity`, with no capability and no way to make another. */
export function confinementArgs(identity: SandboxIdentity): string[] {
  return ['--unshare-user', '--disable-userns', '--uid', String(identity.uid), '--gid', String(identity.gid), '--cap-drop', 'ALL'];
}

/** `argv` as one POSIX shell command line: every word single-quoted. */
export function shellCommandLine(argv: string[]): string {
  return argv.map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
}
