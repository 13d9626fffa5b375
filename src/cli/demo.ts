import { legateHome } from '../config/load.js';
import { configSchema } from '../config/schema.js';
import { DemoProvider } from '../demo/demo-provider.js';
import { looksEmpty, makeSampleProject } from '../demo/sample-project.js';
import { Runtime } from '../runtime.js';
import { Session } from '../session.js';
import { oneLine } from '../tasks/output-lines.js';
import type { GlobalOptions, Streams } from './context.js';
import { taskLine } from './progress.js';

export interface DemoOptions extends GlobalOptions {
  fast?: boolean;
}

/**
 * `legate demo`: the async subagent lifecycle (spawn three, check, steer, cancel, collect) on the
 * user's own files, driven by the built-in demo model (`demo/`, a `Provider` answering in process).
 * No key, no network. Everything else — the loop, tools, task service — is the real thing.
 */
export async function demoCommand(options: DemoOptions, streams: Streams): Promise<number> {
  const say = (line: string): void => void streams.stdout.write(`${line}\n`);
  const here = options.cwd ?? process.cwd();
  // Nothing to survey here (an empty or freshly initialised directory): survey a small sample project instead.
  const sample = looksEmpty(here) ? makeSampleProject() : undefined;
  const cwd = sample?.dir ?? here;
  // The demo model answers in process (`DemoProvider`): the base URL is never called.
  const provider = new DemoProvider({ parentDelayMs: options.fast ? 50 : 700, steeredChildDelayMs: options.fast ? 600 : 1500 });
  const config = configSchema.parse({
    model: { provider: 'openai', name: 'legate-demo', base_url: 'http://127.0.0.1:9/legate-demo-offline', api_key: 'demo-offline' },
    agent: { toolsets: ['file', 'delegation', 'async_delegation'] },
  });
  const runtime = new Runtime({ loaded: { config, file: undefined, home: legateHome(streams.env), unset: new Map() }, cwd, providerFactory: () => provider });
  const session = new Session(runtime);
  say('legate demo: running OFFLINE on a built-in scripted demo model (no API key, no network).');
  if (sample)
    say(
      `${here} is empty, so the subagents survey a small sample project in ${cwd} instead (removed afterwards).\n` +
        `Run legate demo in one of your own projects to see it work on your files.\n`,
    );
  else say(`The subagents really read your files in ${cwd} (read-only).\n`);
  session.agent.subscribe((event) => {
    if (event.type === 'model.finished' && event.text && event.toolCalls > 0) say(`parent› ${event.text}`);
    if (event.type === 'tool.started') say(`  ⚙ ${event.name}(${oneLine(event.arguments, 110)})`);
    if (event.type === 'tool.finished') say(`    ${event.isError ? '✗' : '→'} ${oneLine(event.content, 150)}`);
  });
  const unsubscribe = runtime.tasks.subscribe((event) => {
    const line = taskLine(event);
    if (line) say(`  ${line.trim()}`);
  });
  try {
    const result = await session.turn('Survey this project for me using background subagents: its layout, its TODO/FIXME notes, and its biggest files.');
    if (result.status !== 'completed') {
      streams.stderr.write(`legate demo: the demo run ${result.status}: ${result.error ?? result.exitReason}\n`);
      return 1;
    }
    say(`\nparent› ${result.final}\n`);
    say('That was the async_delegation lifecycle: delegate_task_async, check_task, steer_task, cancel_task, collect_task.');
    say('Next: configure a real model (README "Configuration") and try `legate chat`.');
    return 0;
  } finally {
    unsubscribe();
    await runtime.close();
    sample?.remove();
  }
}
