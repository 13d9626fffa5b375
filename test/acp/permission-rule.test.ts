import type * as acp from '@agentclientprotocol/sdk';
import { describe, expect, it } from 'vitest';
import { type ChildPermissionContext, childPermission, permissionAnswer } from '../../src/acp/permission-rule.js';

const base: ChildPermissionContext = { route: 'claude', mode: 'workspace-write', cwd: '/work/project', allowAll: false };
const call = (kind: acp.ToolKind | undefined, paths: string[] = [], extra: Partial<acp.ToolCallUpdate> = {}): acp.ToolCallUpdate => ({
  toolCallId: 'c1',
  title: 'the call',
  ...(kind ? { kind } : {}),
  ...(paths.length ? { locations: paths.map((path) => ({ path })) } : {}),
  ...extra,
});

describe("an ACP child's permission request follows the task's sandbox mode", () => {
  const cases: [string, acp.ToolCallUpdate, Partial<ChildPermissionContext>, 'allow' | 'ask', string?][] = [
    ['allow_permissions allows anything', call('execute'), { allowAll: true }, 'allow'],
    ['danger-full-access allows anything', call('execute'), { mode: 'danger-full-access' }, 'allow'],
    ['a read inside the directory', call('read', ['/work/project/a.txt']), {}, 'allow'],
    ['a relative location resolves against the cwd', call('search', ['src']), {}, 'allow'],
    ['a read outside the directory', call('read', ['/etc/passwd']), {}, 'ask', 'read:/etc/passwd'],
    ['a read that names no file', call('read'), {}, 'ask', 'read:the call'],
    ['an edit inside the directory in workspace-write', call('edit', ['/work/project/a.txt']), {}, 'allow'],
    ['an edit inside the directory in read-only', call('edit', ['/work/project/a.txt']), { mode: 'read-only' }, 'ask', 'write:/work/project/a.txt'],
    ['a move out of the directory', call('move', ['/work/project/a.txt', '/tmp/a.txt']), {}, 'ask', 'write:/tmp/a.txt'],
    ['a path that only shares a prefix', call('delete', ['/work/project-other/a.txt']), {}, 'ask', 'write:/work/project-other/a.txt'],
    ['an edit naming no file', call('edit'), {}, 'ask', 'write:the call'],
    ['a command', call('execute', [], { rawInput: { command: 'rm -rf build' } }), {}, 'ask', 'exec:rm -rf build'],
    ['a fetch', call('fetch'), {}, 'ask', 'network:the call'],
    ['no kind', call(undefined), {}, 'ask', 'exec:the call'],
  ];
  it.each(cases)('%s', (_name, toolCall, context, verdict, request) => {
    const decision = childPermission(toolCall, { ...base, ...context });
    expect(decision.verdict).toBe(verdict);
    if (decision.verdict === 'ask') {
      const subject = 'path' in decision.request ? decision.request.path : decision.request.command;
      expect(`${decision.request.kind}:${subject}`).toBe(request);
      expect(decision.reason).toContain('route "claude"');
      expect(decision.reason).toContain(`${context.mode ?? base.mode} mode`);
    }
  });

  it('the answer picks the agent option of the right kind', () => {
    const options: acp.PermissionOption[] = [
      { optionId: 'a', name: 'Always', kind: 'allow_always' },
      { optionId: 'o', name: 'Once', kind: 'allow_once' },
      { optionId: 'r', name: 'No', kind: 'reject_once' },
    ];
    expect(permissionAnswer(options, true)).toEqual({ allowed: true, outcome: { outcome: 'selected', optionId: 'o' } });
    expect(permissionAnswer(options, false)).toEqual({ allowed: false, outcome: { outcome: 'selected', optionId: 'r' } });
    expect(permissionAnswer(options.slice(0, 2), false)).toEqual({ allowed: false, outcome: { outcome: 'cancelled' } });
  });
});
