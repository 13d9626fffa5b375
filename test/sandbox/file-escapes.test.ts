import { existsSync, linkSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, SECRET } from './fixture.js';

/**
 * The file tools on the sandboxed IO: every way out of the workspace is refused with an error
 * naming the real path and the mode, and the same call works in danger-full-access.
 */
const f = fixture();
symlinkSync(f.outside, join(f.ws, 'link-out'));
symlinkSync(f.configFile, join(f.ws, 'link-config'));
symlinkSync(join(f.outside, 'new-via-dangling.txt'), join(f.ws, 'dangling'));
linkSync(join(f.outside, 'target.txt'), join(f.ws, 'hard-out'));
linkSync(f.stateDb, join(f.ws, 'hard-state'));

describe('file tools in workspace-write: escapes are refused', () => {
  const writes: [string, string, string][] = [
    ['a ../ path', '../outside/up.txt', join(f.outside, 'up.txt')],
    ['an absolute path', join(f.outside, 'abs.txt'), join(f.outside, 'abs.txt')],
    ['a ~ path', '~/home.txt', join(f.userHome, 'home.txt')],
    ['a symlink inside the workspace pointing outside', 'link-out/via-link.txt', join(f.outside, 'via-link.txt')],
    ['a dangling symlink pointing outside', 'dangling', join(f.outside, 'new-via-dangling.txt')],
    ['/proc/self/root/…', `/proc/self/root${f.outside}/proc.txt`, join(f.outside, 'proc.txt')],
    ['the config file', f.configFile, f.configFile],
  ];
  for (const [what, path, real] of writes) {
    it(`write_file through ${what}`, async () => {
      const result = await f.call('workspace-write', 'write_file', { path, content: 'escaped' });
      expect(result.isError).toBe(true);
      // write_file looks at the file first: for the config file that read is what is refused.
      expect(result.content).toMatch(
        real === f.configFile ? /^tool_failed: write_file: sandbox_denied: read of / : /^tool_failed: write_file: sandbox_denied: write to /,
      );
      expect(result.content).toContain(real);
      expect(result.content).toContain('workspace-write mode');
      if (real !== f.configFile) expect(existsSync(real)).toBe(false);
    });
  }

  it('write_file through a hard link to a file outside: refused, naming the link count', async () => {
    const result = await f.call('workspace-write', 'write_file', { path: 'hard-out', content: 'escaped' });
    expect(result.isError).toBe(true);
    expect(result.content).toContain(join(f.ws, 'hard-out'));
    expect(result.content).toContain('has 2 names (hard links)');
    expect(readFileSync(join(f.outside, 'target.txt'), 'utf8')).toBe('outside\n');
  });

  it('edit_file outside the workspace', async () => {
    const result = await f.call('workspace-write', 'edit_file', { path: '../outside/target.txt', old_string: 'outside', new_string: 'edited' });
    expect(result.content).toContain(`write to ${join(f.outside, 'target.txt')} refused in workspace-write mode`);
    expect(readFileSync(join(f.outside, 'target.txt'), 'utf8')).toBe('outside\n');
  });

  const reads: [string, string, Record<string, unknown>, string][] = [
    ['read_file of config.yaml', 'read_file', { path: f.configFile }, f.configFile],
    ['read_file of state.db', 'read_file', { path: f.stateDb }, f.stateDb],
    ['read_file of config.yaml through a symlink in the workspace', 'read_file', { path: 'link-config' }, f.configFile],
    ['read_file of config.yaml through /proc/self/root', 'read_file', { path: `/proc/self/root${f.configFile}` }, f.configFile],
    ['read_file of state.db through a hard link in the workspace', 'read_file', { path: 'hard-state' }, join(f.ws, 'hard-state')],
    ['list_dir of $LEGATE_HOME', 'list_dir', { path: f.home }, f.home],
    ['search_files in $LEGATE_HOME', 'search_files', { pattern: 'sk-', path: f.home }, f.home],
  ];
  for (const [what, tool, args, real] of reads) {
    it(what, async () => {
      const result = await f.call('workspace-write', tool, args);
      expect(result.isError).toBe(true);
      expect(result.content).toContain(`read of ${real} refused in workspace-write mode`);
      expect(result.content).not.toContain(SECRET);
    });
  }

  it('search_files over a tree holding a hard link to state.db skips it: the key never shows', async () => {
    const result = await f.call('workspace-write', 'search_files', { pattern: 'SANDBOXSECRET', path: '.' });
    expect(result.content).not.toContain(SECRET);
  });

  it('inside the workspace, reads and writes work', async () => {
    expect((await f.call('workspace-write', 'write_file', { path: 'sub/new.txt', content: 'made' })).isError).toBe(false);
    expect(readFileSync(join(f.ws, 'sub/new.txt'), 'utf8')).toBe('made');
    expect((await f.call('workspace-write', 'edit_file', { path: 'sub/new.txt', old_string: 'made', new_string: 'edited' })).isError).toBe(false);
    expect((await f.call('workspace-write', 'read_file', { path: 'inside.txt' })).content).toContain('inside');
    expect((await f.call('workspace-write', 'read_file', { path: join(f.outside, 'target.txt') })).content).toContain('outside'); // reading outside is fine
  });
});

describe('file tools in read-only', () => {
  it('refuse any write, even inside the workspace', async () => {
    const result = await f.call('read-only', 'write_file', { path: 'ro.txt', content: 'x' });
    expect(result.content).toContain(`write to ${join(f.ws, 'ro.txt')} refused in read-only mode`);
    expect(existsSync(join(f.ws, 'ro.txt'))).toBe(false);
    const edit = await f.call('read-only', 'edit_file', { path: 'inside.txt', old_string: 'inside', new_string: 'x' });
    expect(edit.content).toContain('refused in read-only mode');
  });

  it('still read the workspace but not $LEGATE_HOME', async () => {
    expect((await f.call('read-only', 'read_file', { path: 'inside.txt' })).isError).toBe(false);
    expect((await f.call('read-only', 'read_file', { path: f.configFile })).content).toContain('refused in read-only mode');
  });
});

describe('file tools in danger-full-access: the same calls succeed', () => {
  it.each([
    ['../outside/up-danger.txt', join(f.outside, 'up-danger.txt')],
    ['~/home-danger.txt', join(f.userHome, 'home-danger.txt')],
    ['link-out/via-link-danger.txt', join(f.outside, 'via-link-danger.txt')],
    [`/proc/self/root${f.outside}/proc-danger.txt`, join(f.outside, 'proc-danger.txt')],
  ])('write_file %s', async (path, real) => {
    expect((await f.call('danger-full-access', 'write_file', { path, content: 'ok' })).isError).toBe(false);
    expect(readFileSync(real, 'utf8')).toBe('ok');
  });

  it('read_file of config.yaml and a hard link to state.db', async () => {
    expect((await f.call('danger-full-access', 'read_file', { path: f.configFile })).content).toContain(SECRET);
    expect((await f.call('danger-full-access', 'read_file', { path: 'link-config' })).content).toContain(SECRET);
  });
});
