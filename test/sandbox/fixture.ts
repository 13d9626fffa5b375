import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, it } from 'vitest';
import { osSandboxStatus } from '../../src/sandbox/availability.js';
import type { SandboxMode } from '../../src/sandbox/modes.js';
import type { OsSandboxStatus } from '../../src/sandbox/policy.js';
import { createSandboxedIO } from '../../src/sandbox/sandboxed-io.js';
import { sandboxSettings } from '../../src/sandbox/settings.js';
import { executeToolCall, type ToolCallResult } from '../../src/tools/execute.js';
import { createNodeIO } from '../../src/tools/node-io.js';
import type { Tool } from '../../src/tools/tool.js';
import { builtinToolsets } from '../../src/tools/toolsets.js';

export const SECRET = 'sk-proj-SANDBOXSECRET0001';

/**
 * A workspace, a directory outside it, a LEGATE_HOME holding config.yaml (with a key) and state.db,
 * and a home directory for `~` (HOME points there for this test file), all under one temp dir.
 */
export interface Fixture {
  ws: string;
  outside: string;
  home: string;
  configFile: string;
  stateDb: string;
  userHome: string;
  tempDir: string;
  /** Call a built-in tool in `mode`, through the executor, on the sandboxed node IO. */
  call(mode: SandboxMode, name: string, args: Record<string, unknown>, options?: { network?: boolean; osSandbox?: OsSandboxStatus }): Promise<ToolCallResult>;
}

const tools: ReadonlyMap<string, Tool> = new Map(builtinToolsets().flatMap((toolset) => toolset.tools.map((tool) => [tool.name, tool] as const)));

export function fixture(): Fixture {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'legate-sandbox-test-')));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const dirs = {
    ws: join(root, 'ws'),
    outside: join(root, 'outside'),
    home: join(root, 'legate-home'),
    userHome: join(root, 'user-home'),
    tempDir: join(root, 'tmp'),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir);
  const configFile = join(dirs.home, 'config.yaml');
  const stateDb = join(dirs.home, 'state.db');
  writeFileSync(configFile, `model:\n  name: m\n  api_key: ${SECRET}\n`);
  writeFileSync(stateDb, `SQLite format 3\u0000 ${SECRET}`);
  writeFileSync(join(dirs.outside, 'target.txt'), 'outside\n');
  writeFileSync(join(dirs.ws, 'inside.txt'), 'inside\n');
  process.env.HOME = dirs.userHome; // `~` in a tool argument
  return {
    ...dirs,
    configFile,
    stateDb,
    async call(mode, name, args, options = {}) {
      const settings = sandboxSettings({
        mode,
        cwd: dirs.ws,
        home: dirs.home,
        configFile,
        writableRoots: [],
        network: options.network ?? false,
        tempDir: dirs.tempDir,
      });
      const io = createSandboxedIO(createNodeIO(), { settings, ...(options.osSandbox ? { osSandbox: () => options.osSandbox! } : {}) });
      return executeToolCall(tools, { id: 'call_1', name, arguments: JSON.stringify(args) }, { cwd: dirs.ws, signal: new AbortController().signal, io });
    },
  };
}

/**
 * Whether bubblewrap can run here. Missing outside CI: the bubblewrap tests skip, with one line
 * saying why. Missing under CI=true: a failing test says so (CI installs Debian's bubblewrap).
 */
export function bubblewrapAvailable(): boolean {
  const status = osSandboxStatus();
  if (status.available && status.kind === 'bubblewrap') return true;
  const reason = status.available ? `the OS sandbox here is ${status.kind}, not bubblewrap` : status.reason;
  if (process.env.CI === 'true') {
    it('bubblewrap is available (CI installs it)', () => {
      throw new Error(`CI=true but ${reason}`);
    });
  } else {
    console.log(`skipping the bubblewrap tests: ${reason}`);
  }
  return false;
}
