import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hiddenCredentialPaths } from '../../src/sandbox/credentials.js';
import { sandboxSettings } from '../../src/sandbox/settings.js';
import { tempHome } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { bubblewrapAvailable, fixture } from './fixture.js';

/**
 * Issue 23: the user's credentials (~/.ssh, ~/.aws, ~/.netrc, …) are hidden from every tool in
 * read-only and workspace-write, for commands and for the file tools by real path;
 * sandbox.deny_read adds paths, sandbox.allow_read re-opens one; doctor lists what is hidden.
 * HOME is the fixture's fake home.
 */
const f = fixture();
const KEY = '-----BEGIN OPENSSH PRIVATE KEY----- FAKEKEY0001';
mkdirSync(join(f.userHome, '.ssh'));
writeFileSync(join(f.userHome, '.ssh', 'id_ed25519'), `${KEY}\n`);
mkdirSync(join(f.userHome, '.aws'));
writeFileSync(join(f.userHome, '.aws', 'credentials'), '[default]\naws_secret_access_key = AWSFAKESECRET0001\n');
writeFileSync(join(f.userHome, '.netrc'), 'machine example.com password NETRCFAKE0001\n');
writeFileSync(join(f.userHome, 'notes.txt'), 'ordinary file\n');
// A link in the workspace into ~/.ssh: the file tools check the real path.
symlinkSync(join(f.userHome, '.ssh', 'id_ed25519'), join(f.ws, 'innocent.txt'));

describe('credentials are hidden from the file tools', () => {
  for (const mode of ['read-only', 'workspace-write'] as const) {
    it(`${mode}: read_file of ~/.ssh, ~/.aws, ~/.netrc and a symlink into ~/.ssh is refused, naming the path and the setting`, async () => {
      for (const path of ['~/.ssh/id_ed25519', join(f.userHome, '.aws', 'credentials'), '~/.netrc', 'innocent.txt']) {
        const result = await f.call(mode, 'read_file', { path });
        expect(result.isError, path).toBe(true);
        expect(result.content).toContain('holds credentials');
        expect(result.content).toContain('sandbox.allow_read');
        expect(result.content).not.toMatch(/FAKEKEY0001|AWSFAKESECRET0001|NETRCFAKE0001/);
      }
      expect((await f.call(mode, 'read_file', { path: '~/notes.txt' })).content).toContain('ordinary file');
    });
  }

  it('danger-full-access reads them (the user chose no sandbox)', async () => {
    expect((await f.call('danger-full-access', 'read_file', { path: '~/.netrc' })).content).toContain('NETRCFAKE0001');
  });
});

describe.skipIf(!bubblewrapAvailable())('credentials are hidden from commands (bubblewrap)', () => {
  it('cat, ls and a copy of ~/.ssh, ~/.aws and ~/.netrc show nothing', async () => {
    const out = (
      await f.call('workspace-write', 'terminal', {
        command: `cat ~/.ssh/id_ed25519 ~/.aws/credentials ~/.netrc; ls -A ~/.ssh ~/.aws; cp ~/.ssh/id_ed25519 stolen.txt; cat innocent.txt; cat ~/notes.txt`,
      })
    ).content;
    expect(out).not.toMatch(/FAKEKEY0001|AWSFAKESECRET0001|NETRCFAKE0001/);
    expect(out).toContain('ordinary file');
  });
});

describe('deny_read, allow_read and doctor', () => {
  it('deny_read adds a path, allow_read re-opens a default one', () => {
    const home = '/home/u';
    const paths = hiddenCredentialPaths({ denyRead: ['~/secrets', '/etc/app/token'], allowRead: ['~/.npmrc'], userHome: home }, '/work');
    expect(paths).toContain('/home/u/.ssh');
    expect(paths).toContain('/home/u/.docker/config.json');
    expect(paths).toContain('/home/u/secrets');
    expect(paths).toContain('/etc/app/token');
    expect(paths).not.toContain('/home/u/.npmrc');
  });

  it('allow_read re-opens ~/.netrc; deny_read hides another file', () => {
    // Through the settings the runtime builds: allow_read re-opens, deny_read hides.
    const settings = sandboxSettings({
      mode: 'workspace-write',
      cwd: f.ws,
      home: f.home,
      configFile: f.configFile,
      writableRoots: [],
      network: false,
      tempDir: f.tempDir,
      credentials: { denyRead: ['~/notes.txt'], allowRead: ['~/.netrc'] },
    });
    const hidden = settings.protectedPaths.map((entry) => entry.path);
    expect(hidden).toContain(join(f.userHome, 'notes.txt'));
    expect(hidden).not.toContain(join(f.userHome, '.netrc'));
    expect(hidden).toContain(join(f.userHome, '.ssh'));
  });

  it('legate doctor lists what is hidden', async () => {
    const { home, work } = tempHome({ model: { provider: 'openai', name: 'm', base_url: 'http://127.0.0.1:9/v1', api_key: 'sk-test-doctor-0001' } });
    mkdirSync(join(home, '.ssh'));
    writeFileSync(join(home, '.netrc'), 'x\n');
    const result = await runMain(['doctor'], { home, cwd: work });
    const line = result.stdout.split('\n').find((text) => text.startsWith('hidden:'));
    expect(line).toContain(join(home, '.ssh'));
    expect(line).toContain(join(home, '.netrc'));
    expect(line).toContain('sandbox.allow_read');
  });
});
