import { writeFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { tempHome } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { cleanupLater, scriptedServer } from './config-harness.js';

/** `${VAR}` in config.yaml is read from the environment, so keys need not sit in the file. */
test('api_key and base_url from ${VAR} reach the endpoint', async () => {
  const server = await scriptedServer([{ reply: { text: 'interpolated fine' } }]);
  const { home, work, configFile } = cleanupLater(tempHome());
  writeFileSync(configFile, 'model:\n  name: parent-model\n  api_key: ${MY_LEGATE_KEY}\n  base_url: ${MY_LEGATE_URL}\n  max_retries: 0\n');

  const result = await runMain(['run', 'hi'], { home, cwd: work, env: { MY_LEGATE_KEY: 'sk-from-env-var-5150', MY_LEGATE_URL: server.openaiBaseUrl } });

  expect(result.code).toBe(0);
  expect(result.stdout).toBe('interpolated fine\n');
  expect(server.requests[0]).toMatchObject({ apiKey: 'sk-from-env-var-5150', model: 'parent-model' });
});
