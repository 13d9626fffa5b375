import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bubblewrapArgs } from '../../src/sandbox/bubblewrap.js';
import { decide } from '../../src/sandbox/policy.js';
import { sandboxSettings } from '../../src/sandbox/settings.js';

let root: string | undefined;
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

/** A LEGATE_HOME with a child's worktree under worktrees/, a credentials dir inside it, and one other task's worktree. */
function layout(): { home: string; worktree: string; other: string; secret: string } {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'legate-wt-sandbox-')));
  const home = join(root, 'home');
  const worktree = join(home, 'worktrees', 't_mine');
  const other = join(home, 'worktrees', 't_other');
  const secret = join(worktree, '.aws');
  for (const dir of [worktree, other, secret]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(home, 'state.db'), '');
  return { home, worktree, other, secret };
}

describe('a child sandboxed in its worktree under $LEGATE_HOME/worktrees/', () => {
  it('may read and write its own worktree; the rest of the home, a sibling worktree and credentials inside it stay refused', () => {
    const { home, worktree, other, secret } = layout();
    const settings = sandboxSettings({
      mode: 'workspace-write',
      cwd: worktree,
      home,
      configFile: undefined,
      writableRoots: [],
      network: false,
      tempDir: join(root!, 'tmp'),
      credentials: { denyRead: [], allowRead: [], userHome: worktree },
    });
    expect(settings.worktree).toBe(worktree);
    const table: [kind: 'read' | 'write', path: string, verdict: string][] = [
      ['write', join(worktree, 'src', 'a.ts'), 'allow'],
      ['read', join(worktree, 'shared.txt'), 'allow'],
      ['write', join(home, 'state.db'), 'deny'],
      ['read', join(other, 'x.txt'), 'deny'],
      ['read', join(secret, 'credentials'), 'deny'],
      // The parent's tree is not its workspace: a write there needs an approval (refused without one).
      ['write', join(root!, 'repo', 'shared.txt'), 'ask'],
      ['read', join(root!, 'repo', 'shared.txt'), 'allow'],
    ];
    for (const [kind, path, verdict] of table) expect([kind, path, decide(settings, { kind, path }).verdict]).toEqual([kind, path, verdict]);
  });

  it('bubblewrap hides the home, binds the worktree back over it, then hides what is secret inside the worktree', () => {
    const { home, worktree, secret } = layout();
    const settings = sandboxSettings({
      mode: 'workspace-write',
      cwd: worktree,
      home,
      configFile: undefined,
      writableRoots: [],
      network: false,
      tempDir: join(root!, 'tmp'),
      credentials: { denyRead: [], allowRead: [], userHome: worktree },
    });
    const args = bubblewrapArgs(settings, 'ls', worktree, { uid: 1000, gid: 1000 });
    const homeHidden = args.indexOf('--tmpfs', args.indexOf(home) - 1);
    const rebound = args.findIndex((arg, index) => arg === '--bind' && args[index + 1] === worktree && index > homeHidden);
    const secretHidden = args.findIndex((arg, index) => arg === '--tmpfs' && args[index + 1] === secret);
    expect(args[homeHidden + 1]).toBe(home);
    expect(rebound).toBeGreaterThan(homeHidden);
    expect(secretHidden).toBeGreaterThan(rebound);
  });
});
