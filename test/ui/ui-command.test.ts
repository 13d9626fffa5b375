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
});
