import { describe, expect, it } from 'vitest';
import { resolveEndpoints } from '../../src/config/endpoints.js';
import { formatIssues } from '../../src/config/format-issues.js';
import { configSchema } from '../../src/config/schema.js';

const model = { name: 'parent-model', api_key: 'sk-test-parent-0001' };

describe('provider: acp routes in config', () => {
  it('an ACP route needs no key and resolves apart from the model routes', () => {
    const config = configSchema.parse({
      model,
      delegation: { routes: { claude: { provider: 'acp', command: 'claude-code-acp', env: { A: '1' } }, cheap: { model: 'small' } } },
    });
    const endpoints = resolveEndpoints({ config, file: 'config.yaml', home: '/tmp', unset: new Map() });
    expect(endpoints.acpRoutes.get('claude')).toEqual({ provider: 'acp', command: 'claude-code-acp', args: [], env: { A: '1' }, allow_permissions: false });
    expect([...endpoints.routes.keys()]).toEqual(['cheap']);
  });

  it('a typo or a missing command is an error naming the key', () => {
    const missing = configSchema.safeParse({ model, delegation: { routes: { claude: { provider: 'acp' } } } });
    expect(missing.success).toBe(false);
    expect(formatIssues(missing.error!, {}).join('\n')).toContain('delegation.routes.claude.command');
    const typo = configSchema.safeParse({ model, delegation: { routes: { claude: { provider: 'acp', command: 'x', arg: [] } } } });
    expect(formatIssues(typo.error!, {}).join('\n')).toContain('unknown key "delegation.routes.claude.arg"');
  });
});
