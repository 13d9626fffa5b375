import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import { runMain } from '../helpers/main.js';
import { taskFixture } from '../tasks/store-conformance.js';
import { home } from './cli-harness.js';

/** `legate tasks` ids as the user types them: an empty one is a usage error, a strange one is echoed safely. */

async function homeWithTask(): Promise<(args: string[]) => ReturnType<typeof runMain>> {
  const dirs = home({ model: { provider: 'openai', name: 'm', api_key: 'sk-ids-0001', base_url: 'http://127.0.0.1:9/v1' } });
  const store = SqliteTaskStore.open(join(dirs.home, 'state.db'));
  await store.create(taskFixture({ id: 't_known001', cwd: dirs.work, status: 'completed', summary: 'S', endedAt: Date.now() }));
  await store.close();
  return (args) => runMain(['--config', dirs.configFile, ...args], { home: dirs.home, cwd: dirs.work });
}

describe('legate tasks ids', () => {
  it('an empty id is invalid_arguments (exit 2) for every subcommand that takes one', async () => {
    const cli = await homeWithTask();
    const commands = [
      ['show', ''],
      ['collect', ''],
      ['collect', 't_known001', ''],
      ['steer', '', 'hello'],
      ['cancel', ''],
      ['approve', ''],
      ['deny', '', '--reason', 'no'],
      ['resume', ''],
    ];
    for (const command of commands) {
      const result = await cli(['tasks', ...command]);
      expect(result.stderr, command.join(' ')).toContain('invalid_arguments: a task id must not be empty');
      expect(result.code, command.join(' ')).toBe(2);
    }
  });

  it('an unknown id is echoed at most 80 characters, control characters escaped', async () => {
    const cli = await homeWithTask();
    const long = `t_${'x'.repeat(500)}`;
    const hostile = 't_\u001b[2J\u0007\nfake line';
    for (const subcommand of ['show', 'collect', 'cancel', 'approve', 'resume']) {
      const longResult = await cli(['tasks', subcommand, long]);
      expect(longResult.code, subcommand).toBe(1);
      expect(longResult.stderr, subcommand).toContain(`"t_${'x'.repeat(78)}…"`);
      expect(longResult.stderr, subcommand).not.toContain('x'.repeat(79));
      const hostileResult = await cli(['tasks', subcommand, hostile]);
      expect(hostileResult.code, subcommand).toBe(1);
      expect(hostileResult.stderr, subcommand).toContain('"t_\\u001b[2J\\u0007\\nfake line"');
      expect(hostileResult.stderr, subcommand).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
      expect(hostileResult.stderr.trim().split('\n'), subcommand).toHaveLength(1);
    }
  });
});
