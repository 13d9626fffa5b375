import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli, tempHome, until } from '../helpers/cli.js';

describe('legate ui (the command)', () => {
  it('refuses a bad --port naming it (usage error, exit 2)', async () => {
    const { home, work } = tempHome();
    for (const port of ['70000']) {
      const result = await runCli(['ui', '--port', port], { home, cwd: work });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(`--port must be a whole number from 0 to 65535 (got "${port}")`);
    }
  });

  it('--host 0.0.0.0 keeps the token and warns; Ctrl-C stops it', async () => {
    const { home, work } = tempHome();
    const open = startCli(['ui', '--port', '0', '--host', '0.0.0.0'], { home, cwd: work });
    await until(() => /legate ui: http:\/\/0\.0\.0\.0:\d+\/\?token=[\w-]{32}\n/.test(open.stdout()), 20_000, 'the address');
    expect(open.stderr()).toContain('warning: listening on 0.0.0.0, not only this machine');
    const port = /:(\d+)\//.exec(open.stdout())![1];
    expect((await fetch(`http://127.0.0.1:${port}/api/tasks`)).status).toBe(401);
    open.kill('SIGINT');
    expect((await open.done).code).toBe(0);
  });

  it.skipIf(process.platform !== 'linux')('--open hands the tokened address to the system opener (xdg-open), which logs the browser in', async () => {
    const { home, work } = tempHome();
    // A stand-in xdg-open first on PATH: it records the address it was given.
    const bin = join(home, 'fake-bin');
    const opened = join(home, 'opened.txt');
    mkdirSync(bin);
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`);
    chmodSync(join(bin, 'xdg-open'), 0o755);
    const ui = startCli(['ui', '--port', '0', '--open'], { home, cwd: work, env: { PATH: `${bin}:${process.env.PATH ?? ''}` } });
    await until(() => /legate ui: (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32})\n/.test(ui.stdout()), 20_000, 'the address');
    const printed = /legate ui: (\S+)\n/.exec(ui.stdout())![1]!;
    await until(() => existsSync(opened) && readFileSync(opened, 'utf8').length > 0, 20_000, 'xdg-open to be called');
    expect(readFileSync(opened, 'utf8')).toBe(printed);
    // The address logs the browser in: a cookie, and a redirect to the page without the token.
    const first = await fetch(printed, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('set-cookie')).toBeTruthy();
    ui.kill('SIGINT');
    expect((await ui.done).code).toBe(0);
  });
});
