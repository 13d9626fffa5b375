import { describe, expect, it } from 'vitest';
import { childSandboxMode, isNarrowerOrEqual, parseSandboxMode, type SandboxMode } from '../../src/sandbox/modes.js';
import { decide, isWithin, type OsSandboxStatus, type SandboxRequest, type SandboxSettings } from '../../src/sandbox/policy.js';

const bwrap: OsSandboxStatus = { available: true, kind: 'bubblewrap', executable: '/usr/bin/bwrap' };
const none: OsSandboxStatus = { available: false, reason: 'the OS sandbox is not available: bwrap was not found on PATH; install bubblewrap' };

function settings(mode: SandboxMode, extra: Partial<SandboxSettings> = {}): SandboxSettings {
  return {
    mode,
    writableRoots: ['/work/ws', '/tmp/legate-sandbox-1', '/data/out'],
    protectedPaths: [
      { path: '/home/u/.legate', kind: 'directory', present: true },
      { path: '/work/ws/legate.yaml', kind: 'file', present: true },
    ],
    network: false,
    tempDir: '/tmp/legate-sandbox-1',
    ...extra,
  };
}

type Expected = 'allow' | 'deny' | 'ask';
/** Name, request, the verdict in read-only / workspace-write / danger-full-access, words the reason must hold. */
const cases: [string, SandboxRequest, [Expected, Expected, Expected], string[]][] = [
  ['read inside the workspace', { kind: 'read', path: '/work/ws/src/a.ts' }, ['allow', 'allow', 'allow'], []],
  ['read anywhere else', { kind: 'read', path: '/etc/hosts' }, ['allow', 'allow', 'allow'], []],
  [
    'read config.yaml in $LEGATE_HOME',
    { kind: 'read', path: '/home/u/.legate/config.yaml' },
    ['deny', 'deny', 'allow'],
    ['/home/u/.legate/config.yaml', "legate's home"],
  ],
  ['read state.db', { kind: 'read', path: '/home/u/.legate/state.db' }, ['deny', 'deny', 'allow'], ['/home/u/.legate/state.db']],
  ['list $LEGATE_HOME itself', { kind: 'read', path: '/home/u/.legate' }, ['deny', 'deny', 'allow'], ['/home/u/.legate']],
  ['read the --config file inside the workspace', { kind: 'read', path: '/work/ws/legate.yaml' }, ['deny', 'deny', 'allow'], ['the config file']],
  [
    'read a hard link to state.db',
    { kind: 'read', path: '/work/ws/innocent', links: 2, sameFileAs: '/home/u/.legate/state.db' },
    ['deny', 'deny', 'allow'],
    ['/work/ws/innocent', 'another name of /home/u/.legate/state.db'],
  ],
  ['a sibling whose name starts like the home', { kind: 'read', path: '/home/u/.legate-old/x' }, ['allow', 'allow', 'allow'], []],
  ['write inside the workspace', { kind: 'write', path: '/work/ws/src/a.ts' }, ['ask', 'allow', 'allow'], []],
  ['write the workspace root itself', { kind: 'write', path: '/work/ws' }, ['ask', 'allow', 'allow'], []],
  ['write in the private temp dir', { kind: 'write', path: '/tmp/legate-sandbox-1/x' }, ['ask', 'allow', 'allow'], []],
  ['write in a configured writable root', { kind: 'write', path: '/data/out/report.md' }, ['ask', 'allow', 'allow'], []],
  [
    'write outside every root',
    { kind: 'write', path: '/work/other/x' },
    ['ask', 'ask', 'allow'],
    ['/work/other/x', 'outside the writable roots', 'danger-full-access'],
  ],
  ['write a sibling of the workspace with the same prefix', { kind: 'write', path: '/work/ws2/x' }, ['ask', 'ask', 'allow'], ['/work/ws2/x']],
  ['write config.yaml', { kind: 'write', path: '/home/u/.legate/config.yaml' }, ['deny', 'deny', 'allow'], ['/home/u/.legate/config.yaml']],
  ['write the --config file in the workspace', { kind: 'write', path: '/work/ws/legate.yaml' }, ['deny', 'deny', 'allow'], ['the config file']],
  ['write through a hard link (other names unknown)', { kind: 'write', path: '/work/ws/linked', links: 2 }, ['ask', 'ask', 'allow'], ['2 names', 'hard links']],
  ['write a file with one name', { kind: 'write', path: '/work/ws/single', links: 1 }, ['ask', 'allow', 'allow'], []],
  ['run a command with bubblewrap', { kind: 'exec', command: 'ls', cwd: '/work/ws', osSandbox: bwrap }, ['allow', 'allow', 'allow'], []],
  [
    'run a command without an OS sandbox',
    { kind: 'exec', command: 'ls', cwd: '/work/ws', osSandbox: none },
    ['deny', 'deny', 'allow'],
    ['"ls"', 'install bubblewrap'],
  ],
  [
    'run a command in $LEGATE_HOME',
    { kind: 'exec', command: 'ls', cwd: '/home/u/.legate', osSandbox: bwrap },
    ['deny', 'deny', 'allow'],
    ['"ls"', '/home/u/.legate'],
  ],
  ['network for a command', { kind: 'network', command: 'curl example.com' }, ['deny', 'deny', 'allow'], ['"curl example.com"', 'sandbox.network']],
  [
    'run a command outside the sandbox (terminal escalate: true)',
    { kind: 'exec', command: 'cp a /etc/x', cwd: '/work/ws', osSandbox: bwrap, escalate: true },
    ['ask', 'ask', 'allow'],
    ['"cp a /etc/x"', 'outside the sandbox', "human's approval"],
  ],
  [
    'run a command outside the sandbox where there is no OS sandbox',
    { kind: 'exec', command: 'make', cwd: '/work/ws', osSandbox: none, escalate: true },
    ['ask', 'ask', 'allow'],
    ['"make"', 'outside the sandbox'],
  ],
  [
    'run a command outside the sandbox in $LEGATE_HOME',
    { kind: 'exec', command: 'ls', cwd: '/home/u/.legate', osSandbox: bwrap, escalate: true },
    ['deny', 'deny', 'allow'],
    ['"ls"', '/home/u/.legate'],
  ],
];

describe('sandbox policy: a table of cases', () => {
  const modes: SandboxMode[] = ['read-only', 'workspace-write', 'danger-full-access'];
  for (const [name, request, expected, words] of cases) {
    modes.forEach((mode, index) => {
      it(`${name} → ${expected[index]} in ${mode}`, () => {
        const decision = decide(settings(mode), request);
        expect(decision.verdict).toBe(expected[index]);
        if (decision.verdict !== 'allow') {
          expect(decision.reason).toContain(`${mode} mode`);
          // The words describe the workspace-write refusal (read-only refuses every write the same way) or a denial.
          if (mode === 'workspace-write' || decision.verdict === 'deny') for (const word of words) expect(decision.reason).toContain(word);
          if (mode === 'read-only' && decision.verdict === 'ask' && request.kind === 'write') expect(decision.reason).toContain('no tool may write');
          if (decision.verdict === 'ask' && request.kind === 'exec') for (const word of words) expect(decision.reason).toContain(word);
        }
      });
    });
  }

  it('sandbox.network: true lets commands use the network in every mode', () => {
    for (const mode of modes) expect(decide(settings(mode, { network: true }), { kind: 'network', command: 'curl x' }).verdict).toBe('allow');
  });

  it('isWithin is a path test, not a string prefix', () => {
    expect(isWithin('/a/b', '/a/b')).toBe(true);
    expect(isWithin('/a/b/c', '/a/b')).toBe(true);
    expect(isWithin('/a/bc', '/a/b')).toBe(false);
    expect(isWithin('/anything', '/')).toBe(true);
  });
});

describe('sandbox modes: children only narrow', () => {
  it('orders the modes', () => {
    expect(isNarrowerOrEqual('read-only', 'workspace-write')).toBe(true);
    expect(isNarrowerOrEqual('danger-full-access', 'workspace-write')).toBe(false);
  });

  it.each([
    ['workspace-write', undefined, undefined, 'workspace-write'],
    ['workspace-write', 'read-only', undefined, 'read-only'],
    ['danger-full-access', 'workspace-write', undefined, 'workspace-write'],
    ['workspace-write', undefined, 'read-only', 'read-only'],
    ['read-only', undefined, 'danger-full-access', 'read-only'], // a route caps, never widens
    ['danger-full-access', undefined, 'workspace-write', 'workspace-write'],
  ] as const)('parent %s, asked %s, route %s → %s', (parent, requested, cap, expected) => {
    expect(childSandboxMode(parent, requested, cap)).toBe(expected);
  });

  it.each([
    ['workspace-write', 'danger-full-access'],
    ['read-only', 'workspace-write'],
    ['read-only', 'danger-full-access'],
  ] as const)('a %s parent asking for %s is an error naming both modes', (parent, requested) => {
    expect(() => childSandboxMode(parent, requested)).toThrow(
      expect.objectContaining({ code: 'sandbox_wider', message: expect.stringContaining(`"${requested}" is wider than this agent's own "${parent}"`) }),
    );
  });

  it('an unknown mode names the value and the modes', () => {
    expect(() => parseSandboxMode('open')).toThrow('--sandbox: unknown sandbox mode "open"; expected one of read-only, workspace-write, danger-full-access');
  });
});
