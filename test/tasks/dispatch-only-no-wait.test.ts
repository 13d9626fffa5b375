import { describe, expect, it } from 'vitest';
import { home, scriptedServer } from '../cli/cli-harness.js';
import { scriptedConfig } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { useTestRedis } from '../helpers/redis.js';
import { isParent } from '../helpers/script.js';

const redis = await useTestRedis();

/** `run --dispatch-only --no-wait` never ran its tasks here: they are on the shared queue for workers, not handed back. */
describe.skipIf(!redis)('run --dispatch-only --no-wait', () => {
  it('says the task is on the shared queue for a worker, with no hand-back and no `tasks resume` hint', async () => {
    const model = await scriptedServer([
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'QUEUED-GOAL' } }] } },
      { match: isParent, reply: { text: 'spawned it' } },
    ]);
    const dirs = home(scriptedConfig(model.openaiBaseUrl, { tasks: { redis_url: redis!.url, redis_prefix: redis!.prefix } }));
    const result = await runMain(['--config', dirs.configFile, 'run', '--dispatch-only', '--no-wait', 'go'], { home: dirs.home, cwd: dirs.work });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('spawned it');
    expect(result.stderr).toMatch(
      /1 background task of this run is on the shared queue; legate worker processes run it:\n {2}t_[0-9a-f]+ waits for a worker: QUEUED-GOAL/,
    );
    expect(result.stderr).not.toContain('handed back');
    expect(result.stderr).not.toContain('tasks resume');
    model.assertDone();
  });
});
