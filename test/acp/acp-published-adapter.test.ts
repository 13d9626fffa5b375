import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { home, scriptedServer } from '../cli/cli-harness.js';
import { scriptedConfig } from '../helpers/cli.js';
import { connectLegate, type LegateMcp } from '../mcp/mcp-harness.js';

/**
 * A published ACP adapter as a child: Zed's `@zed-industries/claude-agent-acp` (the successor of
 * `claude-code-acp`; it bundles Claude Code through `@anthropic-ai/claude-agent-sdk`). Its agent
 * takes an Anthropic base URL, so it runs offline against the scripted model server's Anthropic
 * wire: the scripted model answers Claude Code's requests.
 */
const adapter = join(dirname(createRequire(import.meta.url).resolve('@zed-industries/claude-agent-acp/package.json')), 'dist/index.js');

const open: LegateMcp[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((legate) => legate.close().catch(() => {})));
});

describe('a published ACP adapter as a child (claude-agent-acp against the scripted model)', () => {
  it('runs a Read tool call and a final answer: the trail shows the tool call, the summary is the answer', async () => {
    const model = await scriptedServer();
    const claude = {
      provider: 'acp',
      command: process.execPath,
      args: [adapter],
      env: {
        ANTHROPIC_BASE_URL: model.anthropicBaseUrl,
        ANTHROPIC_API_KEY: 'sk-ant-test-claude-0001',
        // No telemetry or update checks: every request goes to the scripted server.
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_AUTOUPDATER: '1',
      },
    };
    const dirs = home(scriptedConfig(model.openaiBaseUrl, { delegation: { routes: { claude } } }));
    writeFileSync(join(dirs.work, 'notes.txt'), 'NOTES-FROM-DISK-7\n');
    const isClaude = (request: { wire: string }): boolean => request.wire === 'anthropic';
    model.enqueue(
      {
        label: 'read',
        match: (request) => isClaude(request) && request.text.includes('GOAL-CLAUDE: read notes'),
        reply: { toolCalls: [{ name: 'Read', arguments: { file_path: join(dirs.work, 'notes.txt') } }] },
      },
      { label: 'answer', match: (request) => isClaude(request) && request.text.includes('NOTES-FROM-DISK-7'), reply: { text: 'CLAUDE-SUMMARY: notes say 7' } },
    );
    const legate = await connectLegate({ configFile: dirs.configFile, home: dirs.home, cwd: dirs.work });
    open.push(legate);

    const spawned = await legate.call('delegate_task_async', { route: 'claude', goal: 'GOAL-CLAUDE: read notes', context: 'CTX-CLAUDE' });
    expect(spawned.isError, spawned.text).toBe(false);
    const taskId = spawned.json.task_id as string;
    const collected = (await legate.call('collect_task', { task_id: taskId, timeout: 90 })).json;
    expect(collected, `${JSON.stringify(collected)} ${JSON.stringify(model.unexpected)}`).toMatchObject({
      status: 'completed',
      summary: 'CLAUDE-SUMMARY: notes say 7',
    });
    expect(collected.usage).toEqual({ unknown: true });
    const trail = JSON.stringify((await legate.call('check_task', { task_id: taskId })).json);
    expect(trail).toContain('notes.txt');
    expect(trail).toContain('CLAUDE-SUMMARY');
    // Claude Code's first request carried legate's brief (goal and context) to the scripted model.
    const first = model.requests.find((request) => request.stepLabel === 'read')!;
    expect(first.path).toBe('/v1/messages');
    expect(first.text).toContain('CTX-CLAUDE');
    // Both steps answered, nothing else asked for a model reply. Claude Code also sends a
    // fire-and-forget `HEAD /` to warm the connection to its base URL: the only request allowed
    // besides the script.
    expect(model.requests.map((request) => request.stepLabel)).toEqual(['read', 'answer']);
    expect(model.unexpected.filter((line) => !line.startsWith('HEAD /: '))).toEqual([]);
  }, 120_000);
});
