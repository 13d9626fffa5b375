import { afterEach, describe, expect, it } from 'vitest';
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

let server: ScriptedServer | undefined;
let cli: RunningCli | undefined;
afterEach(async () => {
  cli?.kill('SIGKILL');
  await cli?.done;
  await redis?.server?.start().catch(() => {});
  await server?.close();
});

let dirs: ReturnType<typeof tempHome> | undefined;
const sharedTasks = () => ({ lease_seconds: leaseSeconds, redis_url: redis!.url, redis_prefix: redis!.prefix });

/** A command of a shared-mode home whose parent model call hangs (or that runs `steps`). */
async function start(args: string[], steps: ScriptedStep[] = [{ label: 'parent hangs', match: isParent, reply: { hang: true } }]): Promise<RunningCli> {
  server = await startScriptedServer();
  server.enqueue(...steps);
  dirs = tempHome(scriptedConfig(server.openaiBaseUrl, { tasks: sharedTasks() }));
  cli = startCli(['--config', dirs.configFile, ...args], { home: dirs.home, cwd: dirs.work });
  return cli;
}

/** Redis dies, then `signal`: the command exits by itself (an exit code, not killed by the signal) within the bound. */
async function stopsWithinBound(signal: NodeJS.Signals): Promise<{ code: number | null; stdout: string; stderr: string }> {
  await redis!.server!.stop({ kill: true });
  cli!.kill(signal);
  const exited = await Promise.race([cli!.done, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), boundMs + marginMs))]);
  expect(exited, `no exit within ${boundMs + marginMs} ms of ${signal}; it said:\n${cli!.stderr()}`).toBeDefined();
  expect(exited!.code, `killed by ${signal} instead of stopping: ${exited!.stderr}`).not.toBeNull();
  return exited!;
}

const requested = (label: string) => until(() => server!.requests.some((request) => request.stepLabel === label), 30_000, `the model call "${label}"`);
const modelHangs = () => requested('parent hangs');
const send = (to: RunningCli, message: Record<string, unknown>): void => to.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);

describe.skipIf(!redis)('every stop is bounded (shared mode, model call hanging, Redis down)', () => {
  it('legate run: SIGTERM', async () => {
    await start(['run', '--json', 'go']);
    await modelHangs();
    const result = await stopsWithinBound('SIGTERM');
    expect(result.code).toBe(143);
    expect(result.stderr).toContain('legate: still stopping after 7 s');
    // --json prints its result on this exit too.
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'cancelled', interrupted: true, session_id: expect.stringMatching(/\S/) });
  }, 60_000);

  it('legate run: SIGINT', async () => {
    await start(['run', 'go']);
    await modelHangs();
    const result = await stopsWithinBound('SIGINT');
    expect(result.code).toBe(130);
  }, 60_000);

  it('legate chat: SIGTERM (Ctrl-C would only interrupt the turn)', async () => {
    const chat = await start(['chat']);
    chat.write('hello\n');
    await modelHangs();
    await stopsWithinBound('SIGTERM');
  }, 60_000);

  it('legate mcp: SIGTERM, a task running', async () => {
    const mcp = await start(['mcp'], [{ label: 'child hangs', match: isChild, reply: { hang: true } }]);
    await until(() => mcp.stderr().includes('serving session'), 30_000, 'the MCP server');
    send(mcp, { id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'stop', version: '0' } } });
    send(mcp, { method: 'notifications/initialized' });
    send(mcp, { id: 2, method: 'tools/call', params: { name: 'delegate_task_async', arguments: { goal: 'MCP-GOAL' } } });
    await requested('child hangs');
    await stopsWithinBound('SIGTERM');
  }, 60_000);

  it('legate acp: SIGTERM, a prompt and its task running', async () => {
    const acp = await start(
      ['acp'],
      [
        { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'ACP-GOAL' } }] } },
        { label: 'parent hangs', match: isParent, reply: { hang: true } },
        { label: 'child hangs', match: isChild, reply: { hang: true } },
      ],
    );
    await until(() => acp.stderr().includes('serving on stdio'), 30_000, 'the ACP server');
    send(acp, { id: 1, method: 'initialize', params: { protocolVersion: 1, clientCapabilities: { fs: { readTextFile: false, writeTextFile: false } } } });
    await until(() => acp.stdout().includes('"id":1'), 10_000, 'initialize answered');
    send(acp, { id: 2, method: 'session/new', params: { cwd: dirs!.work, mcpServers: [] } });
    await until(() => /"sessionId":"([^"]+)"/.test(acp.stdout()), 10_000, 'session/new answered');
    const sessionId = /"sessionId":"([^"]+)"/.exec(acp.stdout())![1];
    send(acp, { id: 3, method: 'session/prompt', params: { sessionId, prompt: [{ type: 'text', text: 'go' }] } });
    await modelHangs();
    await requested('child hangs');
    await stopsWithinBound('SIGTERM');
  }, 60_000);

  it('legate ui: SIGINT, a task resumed from the dashboard running', async () => {
    server = await startScriptedServer();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'UI-GOAL' } }] } },
      { match: isParent, reply: afterRequest(server, childWith('UI-GOAL'), { text: 'left it running' }) },
      { label: 'cut by --no-wait exit', match: childWith('UI-GOAL'), reply: { hang: true } },
      { label: 'child hangs', match: childWith('UI-GOAL'), reply: { hang: true } },
    );
    dirs = tempHome(scriptedConfig(server.openaiBaseUrl, { tasks: sharedTasks() }));
    const run = await runCli(['--config', dirs.configFile, 'run', '--no-wait', 'go'], { home: dirs.home, cwd: dirs.work });
    expect(run.code, run.stderr).toBe(0);
    const taskId = /(t_[0-9a-f]+)/.exec(run.stderr)![1]!;
    const ui = (cli = startCli(['--config', dirs.configFile, 'ui', '--port', '0'], { home: dirs.home, cwd: dirs.work }));
    await until(() => /legate ui: (http\S+)/.test(ui.stdout()), 30_000, 'the dashboard');
    const url = new URL(/legate ui: (http\S+)/.exec(ui.stdout())![1]!);
    const token = url.searchParams.get('token')!;
    const resumed = await fetch(new URL(`/api/tasks/${taskId}/resume`, url), { method: 'POST', headers: { 'x-legate-token': token } });
    expect(resumed.status, await resumed.text()).toBe(200);
    await requested('child hangs');
    await stopsWithinBound('SIGINT');
  }, 60_000);
});
