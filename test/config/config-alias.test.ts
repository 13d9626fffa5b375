import { writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { tempHome } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';

/** A YAML alias inside its own anchor makes a value that contains itself: a config error, never a stack overflow. */
describe('a recursive YAML alias in config.yaml', () => {
  const cases = {
    'a mapping that holds itself': 'model: &m\n  name: m-1\n  api_key: sk-alias-0001\n  self: *m\n',
    'a list that holds itself': 'model:\n  name: m-1\n  api_key: sk-alias-0001\nmcp_servers: &l [*l]\n',
  };
  for (const [name, yaml] of Object.entries(cases)) {
    test(`${name}: a config error naming the file, exit 2`, async () => {
      const { home, work, configFile } = tempHome();
      writeFileSync(configFile, yaml);
      const result = await runMain(['run', 'hello'], { home, cwd: work });
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`config_invalid: ${configFile}: not valid config: the YAML alias at`);
      expect(result.stderr).toContain('recursive alias');
      expect(result.stderr).not.toContain('call stack');
    });
  }
});
