import OpenAI from 'openai';
import { childBrief, childSystemPrompt } from '../src/delegation/child-prompt.js';
import { toOpenAIRequest } from '../src/provider/openai.js';
import { toToolSpec } from '../src/tools/tool-spec.js';
import { builtinToolsets } from '../src/tools/toolsets.js';
import { benchKey, benchModel, collectGarbage, flags, report, startModelServer } from './common.js';

/**
 * The memory floor of a running task: what one in-flight streamed model request costs by itself,
 * with bare `fetch` or through the openai SDK (as legate's provider makes it), with the same body a
 * legate child sends. N requests are held open (the server never answers), then RSS and heap growth
 * after GC are divided by N.
 *
 *   node bench/dist/bench/inflight-floor.js --client=fetch|sdk [--requests=1000]
 */
export interface InflightResult {
  kind: 'inflight';
  client: 'fetch' | 'sdk';
  requests: number;
  rssPerRequest: number;
  heapPerRequest: number;
}

async function main(): Promise<void> {
  const options = flags();
  const client = options.get('client') === 'sdk' ? 'sdk' : 'fetch';
  const requests = Number(options.get('requests') ?? 1000);
  const server = await startModelServer({ mode: 'hang', latencyMs: 0, steps: 1 });
  const sdk = new OpenAI({ apiKey: benchKey, baseURL: server.openaiBaseUrl, maxRetries: 0, logLevel: 'off' });
  const tools = builtinToolsets()
    .find((toolset) => toolset.name === 'file')!
    .tools.map(toToolSpec);
  const body = (index: number): ReturnType<typeof toOpenAIRequest> =>
    toOpenAIRequest({
      model: benchModel,
      system: childSystemPrompt({ cwd: '/tmp/legate-bench-000000', depth: 1 }),
      messages: [{ role: 'user', content: childBrief({ goal: `task ${index}: list the working directory` }) }],
      tools,
    });
  const controllers: AbortController[] = [];
  const open = (index: number): void => {
    const controller = new AbortController();
    controllers.push(controller);
    const request =
      client === 'sdk'
        ? sdk.chat.completions.create(body(index), { signal: controller.signal })
        : fetch(`${server.openaiBaseUrl}/chat/completions`, {
            method: 'POST',
            body: JSON.stringify(body(index)),
            headers: { 'content-type': 'application/json', authorization: `Bearer ${benchKey}` },
            signal: controller.signal,
          });
    void Promise.resolve(request).catch(() => {});
  };
  const arrived = async (count: number): Promise<void> => {
    while ((await server.stats()).requests < count) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 300));
  };

  for (let index = 0; index < 50; index++) open(index);
  await arrived(50);
  for (const controller of controllers.splice(0)) controller.abort();
  await new Promise((resolve) => setTimeout(resolve, 300));
  collectGarbage();
  const before = process.memoryUsage();
  for (let index = 0; index < requests; index++) open(index);
  await arrived(50 + requests);
  collectGarbage();
  const after = process.memoryUsage();
  for (const controller of controllers) controller.abort();
  await server.close();
  const result: InflightResult = {
    kind: 'inflight',
    client,
    requests,
    rssPerRequest: (after.rss - before.rss) / requests,
    heapPerRequest: (after.heapUsed - before.heapUsed) / requests,
  };
  await report(result);
  process.exit(0);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
