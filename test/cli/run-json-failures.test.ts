import { describe, expect, it } from 'vitest';
import { scriptedConfig } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { freePort } from '../helpers/redis.js';
import { home, scriptedServer } from './cli-harness.js';

/** `run --json` prints a JSON result on every exit, a failure before the run starts included (issue 23). */
describe('run --json: a result on every failure exit', () => {
  it('an empty prompt: exit 2, the error and its code as JSON', async () => {
    const model = await scriptedServer();
    const dirs = home(scriptedConfig(model.openaiBaseUrl));
    const result = await runMain(['--config', dirs.configFile, 'run', '--json', '   '], { home: dirs.home, cwd: dirs.work });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({
      status: 'failed',
      error_code: 'invalid_arguments',
      error: expect.stringContaining('the prompt is empty'),
    });
  });

  it('a shared store that cannot be reached: exit 1, store_unavailable as JSON, the password masked', async () => {
    const model = await scriptedServer();
    const url = `redis://:json-secret-pw@127.0.0.1:${await freePort()}`;
    const dirs = home(scriptedConfig(model.openaiBaseUrl, { tasks: { redis_url: url } }));
    const result = await runMain(['--config', dirs.configFile, 'run', '--json', 'go'], { home: dirs.home, cwd: dirs.work });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'failed', error_code: 'store_unavailable' });
    expect(result.stdout).not.toContain('json-secret-pw');
  });
});
