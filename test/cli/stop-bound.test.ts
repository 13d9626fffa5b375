import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScriptedStep } from '../../src/testing/scripted-script.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { type RunningCli, runCli, scriptedConfig, startCli, tempHome, until } from '../helpers/cli.js';
import { useTestRedis } from '../helpers/redis.js';
import { afterRequest, childWith, isChild, isParent } from '../helpers/script.js';

/**
 * Every stop is bounded for `run`, `chat`, `mcp`, `acp` and `ui` too (issue 23), as for `legate worker`
 * (test/tasks/worker-stop-bound.test.ts): told to stop while its model call hangs and its Redis is gone, a
 * command exits by itself within `lease_seconds` + 5 s. The margin below is for a loaded machine; without the
 * bound each of these waits on Redis' reconnections (20 s and more per write) or dies by the signal unhandled.
 */

const leaseSeconds = 2;
const boundMs = (leaseSeconds + 5) * 1000;
const marginMs = 4_000;
const redis = await useTestRedis({ private: true });

const sharedTasks = () => ({ lease_seconds: leaseSeconds, redis_url: redis!.url, redis_prefix: redis!.prefix });

/** One command under test: its process, its own scripted model server and home. */
interface Command {
  name: string;
  cli: RunningCli;
  server: ScriptedServer;
  dirs: ReturnType<typeof tempHome>;
}

const commands: Command[] = [];
afterAll(async () => {
  for (const command of commands) {
    command.cli.kill('SIGKILL');
    await command.cli.done;
    await command.server.close();
  }
  await redis?.server?.start().catch(() => {});
});

/** A command of a shared-mode home whose parent model call hangs (or that runs `steps`). */
async function start(
  name: string,
  args: string[],
  steps: ScriptedStep[] = [{ label: 'parent hangs', match: isParent, reply: { hang: true } }],
): Promise<Command> {
  const server = await startScriptedServer();
  server.enqueue(...steps);
  const dirs = tempHome(scriptedConfig(server.openaiBaseUrl, { tasks: sharedTasks() }));
  const cli = startCli(['--config', dirs.configFile, ...args], { home: dirs.home, cwd: dirs.work });
  const command = { name, cli, server, dirs };
  commands.push(command);
  return command;
}

const requested = (command: Command, label: string) =>
  until(() => command.server.requests.some((request) => request.stepLabel === label), 30_000, `${command.name}: the model call "${label}"`);
const send = (to: RunningCli, message: Record<string, unknown>): void => to.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);

/** Each command brought to where it must stop: a model call hanging (and a task running, where it has one). */
const setups: Record<string, () => Promise<Command>> = {
  'run SIGTERM': async () => {
    const command = await start('run SIGTERM', ['run', '--json', 'go']);
    await requested(command, 'parent hangs');
    return command;
  },
  'run SIGINT': async () => {
    const command = await start('run SIGINT', ['run', 'go']);
    await requested(command, 'parent hangs');
    return command;
  },
  'chat SIGTERM': async () => {
    // SIGTERM: Ctrl-C would only interrupt the turn.
    const command = await start('chat SIGTERM', ['chat']);
    command.cli.write('hello\n');
    await requested(command, 'parent hangs');
    return command;
  },
  'mcp SIGTERM': async () => {
    const command = await start('mcp SIGTERM', ['mcp'], [{ label: 'child hangs', match: isChild, reply: { hang: true } }]);
    const mcp = command.cli;
    await until(() => mcp.stderr().includes('serving session'), 30_000, 'the MCP server');
    send(mcp, { id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'stop', version: '0' } } });
    send(mcp, { method: 'notifications/initialized' });
    send(mcp, { id: 2, method: 'tools/call', params: { name: 'delegate_task_async', arguments: { goal: 'MCP-GOAL' } } });
    await requested(command, 'child hangs');
    return command;
  },
  'acp SIGTERM': async () => {
    const command = await start(
      'acp SIGTERM',
      ['acp'],
      [
        { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'ACP-GOAL' } }] } },
        { label: 'parent hangs', match: isParent, reply: { hang: true } },
        { label: 'child hangs', match: isChild, reply: { hang: true } },
      ],
    );
    const acp = command.cli;
    await until(() => acp.stderr().includes('serving on stdio'), 30_000, 'the ACP server');
    send(acp, { id: 1, method: 'initialize', params: { protocolVersion: 1, clientCapabilities: { fs: { readTextFile: false, writeTextFile: false } } } });
    await until(() => acp.stdout().includes('"id":1'), 10_000, 'initialize answered');
    send(acp, { id: 2, method: 'session/new', params: { cwd: command.dirs.work, mcpServers: [] } });
    await until(() => /"sessionId":"([^"]+)"/.test(acp.stdout()), 10_000, 'session/new answered');
    const sessionId = /"sessionId":"([^"]+)"/.exec(acp.stdout())![1];
    send(acp, { id: 3, method: 'session/prompt', params: { sessionId, prompt: [{ type: 'text', text: 'go' }] } });
    await requested(command, 'parent hangs');
    await requested(command, 'child hangs');
    return command;
  },
  'ui SIGINT': async () => {
    const server = await startScriptedServer();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'UI-GOAL' } }] } },
      { match: isParent, reply: afterRequest(server, childWith('UI-GOAL'), { text: 'left it running' }) },
      { label: 'cut by --no-wait exit', match: childWith('UI-GOAL'), reply: { hang: true } },
      { label: 'child hangs', match: childWith('UI-GOAL'), reply: { hang: true } },
    );
    const dirs = tempHome(scriptedConfig(server.openaiBaseUrl, { tasks: sharedTasks() }));
    const run = await runCli(['--config', dirs.configFile, 'run', '--no-wait', 'go'], { home: dirs.home, cwd: dirs.work });
    expect(run.code, run.stderr).toBe(0);
    const taskId = /(t_[0-9a-f]+)/.exec(run.stderr)![1]!;
    const ui = startCli(['--config', dirs.configFile, 'ui', '--port', '0'], { home: dirs.home, cwd: dirs.work });
    const command = { name: 'ui SIGINT', cli: ui, server, dirs };
    commands.push(command);
    await until(() => /legate ui: (http\S+)/.test(ui.stdout()), 30_000, 'the dashboard');
    const url = new URL(/legate ui: (http\S+)/.exec(ui.stdout())![1]!);
    const token = url.searchParams.get('token')!;
    const resumed = await fetch(new URL(`/api/tasks/${taskId}/resume`, url), { method: 'POST', headers: { 'x-legate-token': token } });
    expect(resumed.status, await resumed.text()).toBe(200);
    await requested(command, 'child hangs');
    return command;
  },
};

describe.skipIf(!redis)('every stop is bounded (shared mode, model call hanging, Redis down)', () => {
  // All six at once, on the one Redis that then dies: the bound is waited out once, not six times.
  const results = new Map<string, { code: number | null; stdout: string; stderr: string }>();
  beforeAll(async () => {
    const ready = await Promise.all(Object.values(setups).map((setup) => setup()));
    await redis!.server!.stop({ kill: true });
    await Promise.all(
      ready.map(async (command) => {
        command.cli.kill(command.name.endsWith('SIGINT') ? 'SIGINT' : 'SIGTERM');
        const exited = await Promise.race([command.cli.done, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), boundMs + marginMs))]);
        if (exited) results.set(command.name, exited);
      }),
    );
  }, 90_000);

  /** Exited by itself (an exit code, not killed by the signal) within the bound. */
  const stopped = (name: string) => {
    const command = commands.find((candidate) => candidate.name === name)!;
    const exited = results.get(name);
    expect(exited, `${name}: no exit within ${boundMs + marginMs} ms; it said:\n${command.cli.stderr()}`).toBeDefined();
    expect(exited!.code, `${name}: killed by the signal instead of stopping: ${exited!.stderr}`).not.toBeNull();
    return exited!;
  };

  it('legate run: SIGTERM', () => {
    const result = stopped('run SIGTERM');
    expect(result.code).toBe(143);
    expect(result.stderr).toContain('legate: still stopping after 7 s');
    // --json prints its result on this exit too.
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'cancelled', interrupted: true, session_id: expect.stringMatching(/\S/) });
  });

  it('legate run: SIGINT', () => {
    expect(stopped('run SIGINT').code).toBe(130);
  });

  it('legate chat: SIGTERM (Ctrl-C would only interrupt the turn)', () => {
    stopped('chat SIGTERM');
  });

  it('legate mcp: SIGTERM, a task running', () => {
    stopped('mcp SIGTERM');
  });

  it('legate acp: SIGTERM, a prompt and its task running', () => {
    stopped('acp SIGTERM');
  });

  it('legate ui: SIGINT, a task resumed from the dashboard running', () => {
    stopped('ui SIGINT');
  });
});
