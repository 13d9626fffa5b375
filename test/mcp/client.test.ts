import { describe, expect, it } from 'vitest';
import { home, scriptedServer } from '../cli/cli-harness.js';
import { runCli, scriptedConfig } from '../helpers/cli.js';
import { childWith, isChild, isParent, lastToolResults, toolNames } from '../helpers/script.js';
import { startEchoHttpServer } from './fixtures/echo-http-server.mjs';
import { echoServer } from './mcp-harness.js';

describe('MCP servers from config.yaml (mcp_servers)', () => {
  it("the agent gets the server's tools as a toolset named after it, and the tool's result reaches the next model call", async () => {
    const model = await scriptedServer();
    model.enqueue(
      { label: 'parent: call the MCP tool', match: isParent, reply: { toolCalls: [{ name: 'echo__echo_upper', arguments: { text: 'hello from legate' } }] } },
      { label: 'parent: call the failing tool', match: isParent, reply: { toolCalls: [{ name: 'echo__refuse', arguments: { why: 'NOPE-42' } }] } },
      { label: 'parent: final', match: isParent, reply: { text: 'PARENT-FINAL: shouted' } },
    );
    const {
      home: legateHome,
      work,
      configFile,
    } = home(scriptedConfig(model.openaiBaseUrl, { mcp_servers: { echo: echoServer }, agent: { toolsets: ['file'] } }));

    const result = await runCli(['--config', configFile, 'run', 'shout hello'], { home: legateHome, cwd: work });

    expect(result.stderr).not.toContain('warning');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('PARENT-FINAL');
    model.assertDone();
    const [first, second, third] = model.requests;
    // Offered next to the configured toolsets, with the server's own JSON Schema.
    expect(toolNames(first!)).toEqual(expect.arrayContaining(['read_file', 'echo__echo_upper', 'echo__refuse', 'echo__exit_now']));
    const offered = (first!.body.tools as { function: { name: string; description: string; parameters: any } }[]).find(
      (tool) => tool.function.name === 'echo__echo_upper',
    )!;
    expect(offered.function.description).toBe('Echo the text in upper case.');
    expect(offered.function.parameters).toMatchObject({
      type: 'object',
      properties: { text: { type: 'string', description: 'What to shout' } },
      required: ['text'],
    });
    expect(lastToolResults(second!)).toEqual(['ECHO: HELLO FROM LEGATE']);
    // isError from the server reaches the model as an error result.
    expect(lastToolResults(third!)).toEqual(['REFUSED: NOPE-42']);
    expect(result.stderr).toContain('✗ echo__refuse: REFUSED: NOPE-42');
  });

  it(
    'a server that changes its tools (tools/list_changed): ' + 'the running agent is offered the new list at a later model call, and can call the new tool',
    async () => {
      const model = await scriptedServer();
      model.enqueue(
        { label: 'parent: unlock', match: isParent, reply: { toolCalls: [{ name: 'echo__unlock', arguments: {} }] } },
        // Time for the notification and the re-listing to arrive before the next request is built.
        { label: 'parent: wait', match: isParent, reply: { delayMs: 1000, toolCalls: [{ name: 'echo__echo_upper', arguments: { text: 'meanwhile' } }] } },
        {
          label: 'parent: use the new tool',
          match: (request) => isParent(request) && toolNames(request).includes('echo__secret_tool'),
          reply: { toolCalls: [{ name: 'echo__secret_tool', arguments: { word: 'OPEN-SESAME' } }] },
        },
        { label: 'parent: final', match: isParent, reply: { text: 'PARENT-FINAL: used the secret tool' } },
      );
      const unlocking = { ...echoServer, args: [...echoServer.args, '--with-unlock'] };
      const {
        home: legateHome,
        work,
        configFile,
      } = home(scriptedConfig(model.openaiBaseUrl, { mcp_servers: { echo: unlocking }, agent: { toolsets: ['file'] } }));

      const result = await runCli(['--config', configFile, 'run', 'unlock and use it'], { home: legateHome, cwd: work });

      expect(result.code, result.stderr).toBe(0);
      model.assertDone();
      const [first, , third, fourth] = model.requests;
      expect(toolNames(first!)).not.toContain('echo__secret_tool');
      expect(toolNames(third!)).toContain('echo__secret_tool');
      expect(lastToolResults(fourth!)).toEqual(['SECRET: OPEN-SESAME']);
      expect(result.stderr).toContain('legate: MCP server "echo" changed its tools (added echo__secret_tool); 5 now');
      expect(result.stderr).not.toContain('warning');
    },
  );

  it('a Streamable HTTP server ({url}) works the same way', async () => {
    const web = await startEchoHttpServer();
    try {
      const model = await scriptedServer();
      model.enqueue(
        { match: isParent, reply: { toolCalls: [{ name: 'web__echo_upper', arguments: { text: 'over http' } }] } },
        { match: isParent, reply: { text: 'PARENT-FINAL' } },
      );
      const { home: legateHome, work, configFile } = home(scriptedConfig(model.openaiBaseUrl, { mcp_servers: { web: { url: web.url } } }));

      const result = await runCli(['--config', configFile, 'run', 'go'], { home: legateHome, cwd: work });

      expect(result.stderr).not.toContain('warning');
      expect(result.code).toBe(0);
      model.assertDone();
      expect(lastToolResults(model.requests[1]!)).toEqual(['ECHO: OVER HTTP']);
    } finally {
      await web.close();
    }
  });

  it('children inherit the MCP toolsets by default', async () => {
    const model = await scriptedServer();
    model.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'GOAL-ECHO: shout it' } }] } },
      { match: childWith('GOAL-ECHO'), reply: { toolCalls: [{ name: 'echo__echo_upper', arguments: { text: 'child voice' } }] } },
      { match: childWith('GOAL-ECHO', 'ECHO: CHILD VOICE'), reply: { text: 'SUMMARY-ECHO: shouted' } },
      { match: isParent, reply: { text: 'PARENT-FINAL' } },
    );
    const { home: legateHome, work, configFile } = home(scriptedConfig(model.openaiBaseUrl, { mcp_servers: { echo: echoServer } }));

    const result = await runCli(['--config', configFile, 'run', 'delegate'], { home: legateHome, cwd: work });

    expect(result.code).toBe(0);
    model.assertDone();
    const child = model.requests.filter(isChild);
    expect(toolNames(child[0]!)).toContain('echo__echo_upper');
  });

  it('with delegation.inherit_mcp_toolsets: false the parent has them and children do not', async () => {
    const model = await scriptedServer();
    model.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'GOAL-PLAIN: no echo' } }] } },
      { match: childWith('GOAL-PLAIN'), reply: { text: 'SUMMARY-PLAIN' } },
      { match: isParent, reply: { text: 'PARENT-FINAL' } },
    );
    const config = scriptedConfig(model.openaiBaseUrl, { mcp_servers: { echo: echoServer }, delegation: { inherit_mcp_toolsets: false } });
    const { home: legateHome, work, configFile } = home(config);

    const result = await runCli(['--config', configFile, 'run', 'delegate'], { home: legateHome, cwd: work });

    expect(result.code).toBe(0);
    model.assertDone();
    const [parent] = model.requests.filter(isParent);
    const [child] = model.requests.filter(isChild);
    expect(toolNames(parent!)).toContain('echo__echo_upper');
    expect(toolNames(child!)).toContain('read_file');
    expect(toolNames(child!).filter((name) => name.startsWith('echo__'))).toEqual([]);
  });

  it('a server that does not start costs one warning naming it; the run goes on with the other servers', async () => {
    const model = await scriptedServer();
    model.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'echo__echo_upper', arguments: { text: 'still here' } }] } },
      { match: isParent, reply: { text: 'PARENT-FINAL' } },
    );
    const config = scriptedConfig(model.openaiBaseUrl, {
      mcp_servers: {
        ghost: { command: 'legate-test-no-such-command' },
        crashy: { command: process.execPath, args: ['-e', 'console.error("CRASHY: missing API token"); process.exit(1)'] },
        echo: echoServer,
      },
      // Naming a failed server's toolset is not an error either.
      agent: { toolsets: ['file', 'ghost'] },
    });
    const { home: legateHome, work, configFile } = home(config);

    const result = await runCli(['--config', configFile, 'run', 'go'], { home: legateHome, cwd: work });

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('PARENT-FINAL');
    const warnings = result.stderr.split('\n').filter((line) => line.includes('warning'));
    expect(warnings).toHaveLength(2);
    expect(warnings.find((line) => line.includes('"ghost"'))).toContain('command not found: "legate-test-no-such-command"');
    expect(warnings.find((line) => line.includes('"crashy"'))).toContain('CRASHY: missing API token');
    model.assertDone();
    expect(toolNames(model.requests[0]!).filter((name) => name.includes('__'))).toEqual(['echo__echo_upper', 'echo__refuse', 'echo__exit_now']);
    expect(lastToolResults(model.requests[1]!)).toEqual(['ECHO: STILL HERE']);
  });

  it('legate doctor lists each server with its tools, and reports one that does not start', async () => {
    const model = await scriptedServer();
    const config = scriptedConfig(model.openaiBaseUrl, {
      mcp_servers: { echo: echoServer, ghost: { command: 'legate-test-no-such-command' } },
      agent: { toolsets: ['file', 'echo'] },
    });
    const { home: legateHome, work, configFile } = home(config);

    const result = await runCli(['--config', configFile, 'doctor'], { home: legateHome, cwd: work });

    expect(result.stdout).toContain('mcp:       echo: 3 tools (echo__echo_upper, echo__refuse, echo__exit_now)');
    expect(result.stdout).toContain('problem:   MCP server "ghost" unavailable: command not found: "legate-test-no-such-command"');
    expect(result.stdout).not.toContain('unknown toolset');
    expect(result.code).toBe(1);
  });

  it('a server that dies later: a warning, and its tools answer that it is gone', async () => {
    const model = await scriptedServer();
    model.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'echo__exit_now', arguments: {} }] } },
      { match: isParent, reply: { delayMs: 300, toolCalls: [{ name: 'echo__echo_upper', arguments: { text: 'anyone?' } }] } },
      { match: isParent, reply: { text: 'PARENT-FINAL' } },
    );
    const { home: legateHome, work, configFile } = home(scriptedConfig(model.openaiBaseUrl, { mcp_servers: { echo: echoServer } }));

    const result = await runCli(['--config', configFile, 'run', 'go'], { home: legateHome, cwd: work });

    expect(result.code).toBe(0);
    model.assertDone();
    const [gone] = lastToolResults(model.requests[2]!);
    expect(gone).toContain('mcp_server_gone: MCP server "echo" is gone');
    expect(gone).toContain('exiting on request');
    expect(result.stderr).toContain('warning: MCP server "echo" is gone');
  });
});
