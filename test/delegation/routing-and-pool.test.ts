import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { tempHome } from '../helpers/cli.js';
import { filesUnder } from '../helpers/files.js';
import { runMain } from '../helpers/main.js';
import { childWith, isChild, isParent, lastToolResults, taskIds } from '../helpers/script.js';

const keys = {
  A: 'sk-test-aaaa-1111-key-A',
  B: 'sk-test-bbbb-2222-key-B',
  ROUTE: 'sk-route-cccc-3333-key',
  BAD1: 'sk-bad-dddd-4444-one',
  BAD2: 'sk-bad-eeee-5555-two',
};
const env = { KEY_A: keys.A, KEY_B: keys.B, KEY_ROUTE: keys.ROUTE, KEY_BAD1: keys.BAD1, KEY_BAD2: keys.BAD2 };

let servers: ScriptedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

async function start(): Promise<ScriptedServer> {
  const server = await startScriptedServer();
  servers.push(server);
  return server;
}

describe('subagent model routing and the credential pool', () => {
  it('children run on delegation.model, a route goes to its own endpoint with its own key, and keys never leak', async () => {
    const main = await start();
    const second = await start();
    main.enqueue(
      {
        match: isParent,
        reply: {
          toolCalls: [
            { name: 'delegate_task_async', arguments: { goal: 'CHEAP-CHILD' } },
            { name: 'delegate_task_async', arguments: { goal: 'ROUTED-CHILD', route: 'local' } },
          ],
        },
      },
      { match: isParent, reply: (request) => ({ toolCalls: taskIds(request).map((id) => ({ name: 'collect_task', arguments: { task_id: id } })) }) },
      { match: isParent, reply: { text: 'ROUTING-DONE' } },
      { match: childWith('CHEAP-CHILD'), reply: { text: 'cheap summary', usage: { inputTokens: 1000, outputTokens: 500 } } },
    );
    second.enqueue({ match: childWith('ROUTED-CHILD'), reply: { text: 'routed summary' } });
    const { home, work, configFile } = tempHome({
      model: { provider: 'openai', name: 'big-model', base_url: main.openaiBaseUrl, api_key: '${KEY_A}', max_retries: 0 },
      delegation: {
        model: 'small-model',
        routes: { local: { base_url: second.openaiBaseUrl, model: 'local-model', api_key: '${KEY_ROUTE}' } },
      },
      prices: { 'small-model': { input_per_million: 0.1, output_per_million: 0.4 } },
    });

    const result = await runMain(['--config', configFile, 'run', '--json', 'route things'], { home, cwd: work, env });

    expect(result.code).toBe(0);
    main.assertDone();
    second.assertDone();
    for (const request of main.requests.filter(isParent)) expect(request.model).toBe('big-model');
    const [cheap] = main.requests.filter(isChild);
    expect(cheap!.model).toBe('small-model');
    expect(cheap!.apiKey).toBe(keys.A); // same endpoint: the parent's pool
    expect(second.requests).toHaveLength(1);
    expect(second.requests[0]!.model).toBe('local-model');
    expect(second.requests[0]!.apiKey).toBe(keys.ROUTE);
    expect(main.requests.every((request) => request.apiKey === keys.A)).toBe(true);

    const collected = lastToolResults(main.requests.filter(isParent)[2]!);
    expect(collected[0]).toMatchObject({
      summary: 'cheap summary',
      model: 'small-model',
      usage: { input_tokens: 1000, output_tokens: 500, total_tokens: 1500, cost_usd: 0.0003 },
    });
    expect(collected[1]).toMatchObject({ summary: 'routed summary', model: 'local-model' });
    expect(collected[1].usage.cost_usd).toBeUndefined();

    const json = JSON.parse(result.stdout);
    expect(json.final).toBe('ROUTING-DONE');
    expect(json.usage.children.input_tokens).toBeGreaterThanOrEqual(1000);
    expect(json.usage.input_tokens).toBe(json.usage.parent.input_tokens + json.usage.children.input_tokens);

    const everything = [
      result.stdout,
      result.stderr,
      ...filesUnder(home)
        .filter((file) => file !== configFile)
        .map((file) => readFileSync(file, 'latin1')),
    ].join('\n');
    for (const key of Object.values(keys)) expect(everything).not.toContain(key);
  });

  it('a 429 on key A moves the next attempt to key B and the task completes', async () => {
    const main = await start();
    main.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'RATE-CHILD' } }] } },
      { match: isParent, reply: { text: 'rate done' } },
      { match: childWith('RATE-CHILD'), reply: { status: 429, errorBody: { error: { message: 'Rate limit reached', type: 'rate_limit_error' } } } },
      { match: childWith('RATE-CHILD'), reply: { text: 'made it on key B' } },
    );
    const { home, work, configFile } = tempHome({
      model: { provider: 'openai', name: 'm', base_url: main.openaiBaseUrl, api_keys: ['${KEY_A}', '${KEY_B}'], max_retries: 2 },
    });

    const result = await runMain(['--config', configFile, 'run', 'go'], { home, cwd: work, env });

    expect(result.code).toBe(0);
    const children = main.requests.filter(isChild);
    expect(children.map((request) => request.apiKey)).toEqual([keys.A, keys.B]);
    const [batch] = lastToolResults(main.requests.filter(isParent)[1]!);
    expect(batch.results[0]).toMatchObject({ status: 'completed', summary: 'made it on key B' });
    // The pool is shared: the parent's next call also avoids the cooling key A.
    expect(main.requests.filter(isParent)[1]!.apiKey).toBe(keys.B);
    main.assertDone();
  });

  it('401 on every key fails the task (never completed) with a message naming the masked keys', async () => {
    const main = await start();
    const bad = await start();
    main.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'AUTH-CHILD', route: 'bad' } }] } },
      { match: isParent, reply: { text: 'auth reported' } },
    );
    bad.enqueue(
      {
        match: childWith('AUTH-CHILD'),
        reply: { status: 401, errorBody: { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } } },
      },
      {
        match: childWith('AUTH-CHILD'),
        reply: { status: 401, errorBody: { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } } },
      },
    );
    const { home, work, configFile } = tempHome({
      model: { provider: 'openai', name: 'm', base_url: main.openaiBaseUrl, api_key: '${KEY_A}', max_retries: 3 },
      delegation: { routes: { bad: { base_url: bad.openaiBaseUrl, api_keys: ['${KEY_BAD1}', '${KEY_BAD2}'] } } },
    });

    const result = await runMain(['--config', configFile, 'run', 'go'], { home, cwd: work, env });

    expect(result.code).toBe(0);
    expect(bad.requests.map((request) => request.apiKey)).toEqual([keys.BAD1, keys.BAD2]);
    const [batch] = lastToolResults(main.requests.filter(isParent)[1]!);
    expect(batch.results[0].status).toBe('failed');
    expect(batch.results[0].error).toContain(`sk-...${keys.BAD1.slice(-4)}`);
    expect(batch.results[0].error).toContain(`sk-...${keys.BAD2.slice(-4)}`);
    expect(batch.results[0].error).toMatch(/401/);
    expect(JSON.stringify(main.requests.map((request) => request.body))).not.toContain(keys.BAD1);
    for (const key of [keys.BAD1, keys.BAD2]) expect(result.stdout + result.stderr).not.toContain(key);
    main.assertDone();
    bad.assertDone();
  });

  it('a route to another endpoint without its own key is a config error naming the key and the file', async () => {
    const { home, work, configFile } = tempHome({
      model: { provider: 'openai', name: 'm', base_url: 'http://127.0.0.1:9/v1', api_key: '${KEY_A}' },
      delegation: { routes: { elsewhere: { base_url: 'http://127.0.0.1:8/v1', model: 'x' } } },
    });

    const result = await runMain(['--config', configFile, 'run', 'go'], { home, cwd: work, env });

    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('delegation.routes.elsewhere.api_key');
    expect(result.stderr).toContain(configFile);
    expect(result.stderr).not.toContain(keys.A);
  });
});
