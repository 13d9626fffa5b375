import { describe, expect, it } from 'vitest';
import { bubblewrapArgs, readOnlyProcPaths, sandboxIdentity, shellCommandLine } from '../../src/sandbox/bubblewrap.js';
import type { SandboxSettings } from '../../src/sandbox/policy.js';
import { seatbeltProfile } from '../../src/sandbox/seatbelt.js';

const settings: SandboxSettings = {
  mode: 'workspace-write',
  writableRoots: ['/work/ws', '/tmp/legate-sandbox-1'],
  protectedPaths: [
    { path: '/home/u/.legate', kind: 'directory', present: true },
    { path: '/home/u/.legate/config.yaml', kind: 'file', present: true },
    { path: '/work/ws/legate.yaml', kind: 'file', present: true },
    { path: '/home/u/.legate-missing', kind: 'directory', present: false },
  ],
  network: false,
  tempDir: '/tmp/legate-sandbox-1',
};

describe('bubblewrap arguments', () => {
  it('workspace-write: read-only root, writable roots, hidden home and config, no network, own pid namespace', () => {
    expect(bubblewrapArgs(settings, 'make test', '/work/ws/src', { uid: 1000, gid: 1000 })).toEqual([
      '--new-session',
      '--die-with-parent',
      // A user namespace of its own, no capability, no nested user namespace.
      '--unshare-user',
      '--disable-userns',
      '--uid',
      '1000',
      '--gid',
      '1000',
      '--cap-drop',
      'ALL',
      '--unshare-pid',
      '--unshare-net',
      '--ro-bind',
      '/',
      '/',
      '--dev',
      '/dev',
      '--proc',
      '/proc',
      ...readOnlyProcPaths.flatMap((path) => ['--ro-bind-try', path, path]),
      '--bind',
      '/work/ws',
      '/work/ws',
      '--bind',
      '/tmp/legate-sandbox-1',
      '/tmp/legate-sandbox-1',
      '--tmpfs',
      '/home/u/.legate',
      '--remount-ro',
      '/home/u/.legate', // the config inside it is already hidden; the missing one cannot be mounted over
      '--ro-bind',
      '/dev/null',
      '/work/ws/legate.yaml', // after the binds, so it stays hidden inside the workspace
      '--setenv',
      'TMPDIR',
      '/tmp/legate-sandbox-1',
      '--chdir',
      '/work/ws/src',
      '--',
      'bash',
      '-c',
      'make test',
    ]);
  });

  it('read-only binds nothing writable; sandbox.network keeps the network', () => {
    const args = bubblewrapArgs({ ...settings, mode: 'read-only', network: true }, 'ls', '/work/ws');
    expect(args).not.toContain('--bind');
    expect(args).not.toContain('--unshare-net');
  });

  it('root runs its commands as nobody (65534) in the namespace; anyone else as themselves', () => {
    const uid = process.getuid?.();
    expect(sandboxIdentity()).toEqual(uid === 0 ? { uid: 65534, gid: 65534 } : { uid, gid: process.getgid?.() });
    expect(readOnlyProcPaths).toContain('/proc/sys');
  });

  it('quotes every word for the shell', () => {
    expect(shellCommandLine(['bwrap', "it's", 'a b', '$HOME'])).toBe(`'bwrap' 'it'\\''s' 'a b' '$HOME'`);
  });
});

describe('Seatbelt profile (macOS; generated, not run here)', () => {
  it('denies writes but to the roots, reads of the protected paths, and the network', () => {
    const profile = seatbeltProfile(settings, 'ls');
    expect(profile).toContain('(deny file-write*)');
    expect(profile).toContain('(allow file-write* (subpath "/work/ws"))');
    expect(profile).toContain('(deny file-read* file-write* (subpath "/home/u/.legate"))');
    expect(profile).toContain('(deny file-read* file-write* (literal "/work/ws/legate.yaml"))');
    expect(profile).toContain('(deny network*)');
    expect(seatbeltProfile({ ...settings, mode: 'read-only', network: true }, 'ls')).not.toMatch(/allow file-write\* \(subpath|deny network/);
  });
});
