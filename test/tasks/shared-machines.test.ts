import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedRequest, ScriptedReply } from '../../src/testing/scripted-script.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { type RunningCli, runCli, scriptedConfig, startCli, tempHome, until } from '../helpers/cli.js';
import { dumpKeys, useTestRedis } from '../helpers/redis.js';
import { isChild, taskIds } from '../helpers/script.js';

const redis = await useTestRedis();

let server: ScriptedServer | undefined;
const running: RunningCli[] = [];
afterEach(async () => {
  for (const cli of running.splice(0)) {
    cli.kill('SIGKILL');
    await cli.done;
  }
  await server?.close();
  server = undefined;
  await redis?.deleteKeys();
});

const goals = [...Array.from({ length: 18 }, (_, index) => `GOAL-${String(index + 1).padStart(2, '0')}`), 'STEER-GOAL', 'CANCEL-GOAL'];

/** The child's goal a request belongs to. */
function goalOf(request: RecordedRequest): string {
  return goals.find((goal) => request.text.includes(goal))!;
}

/** A child's second model call carries the result of its first step's tool call. */
function stepOf(request: RecordedRequest): 1 | 2 {
  return request.body.messages.some((message: { role: string }) => message.role === 'tool') ? 2 : 1;
}

function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe.skipIf(!redis)('shared mode across machines: a dispatch-only parent, three workers, a fifth process', () => {
  it('runs 20 tasks on three workers, resumes a SIGKILLed worker’s tasks from their checkpoints, steers, cancels and collects from a fifth process', async () => {
    const keys = {
      parent: 'sk-machine-parent-SECRET-0001',
      w1: 'sk-machine-w1-SECRET-0002',
      w2: 'sk-machine-w2-SECRET-0003',
      w3: 'sk-machine-w3-SECRET-0004',
      desk: 'sk-machine-desk-SECRET-0005',
    };
    const hangingOnW1 = { count: 0 };
    const steerGate = gate();
    let steerCallKey: string | undefined;
    let cancelCallKey: string | undefined;
    server = await startScriptedServer({
      handler: (request): ScriptedReply => {
        if (!isChild(request)) {
          if (request.body.messages.some((message: { role: string }) => message.role === 'tool')) return { text: 'all 20 spawned' };
          return { toolCalls: goals.map((goal) => ({ name: 'delegate_task_async', arguments: { goal } })) };
        }
        const goal = goalOf(request);
        const step = stepOf(request);
        // Worker 1 is killed mid-step: its second model calls never answer.
        if (request.apiKey === keys.w1 && (step === 2 || goal === 'STEER-GOAL' || goal === 'CANCEL-GOAL')) {
          hangingOnW1.count++;
          return { hang: true };
        }
        if (goal === 'CANCEL-GOAL') {
          cancelCallKey = request.apiKey;
          return { hang: true };
        }
        if (goal === 'STEER-GOAL' && step === 1) {
          steerCallKey = request.apiKey;
          return steerGate.opened.then(() => ({ toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }] })) as unknown as ScriptedReply;
        }
        if (goal === 'STEER-GOAL') return { text: request.text.includes('STEER-MESSAGE') ? 'STEERED-RESULT' : 'steer missing' };
        if (step === 1) return { toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }], delayMs: 200 };
        return { text: `RESULT-${goal}`, delayMs: 200 };
      },
    });
    const shared = { redis_url: redis!.url, redis_prefix: redis!.prefix, lease_seconds: 2 };
    const machine = (key: string) => tempHome(scriptedConfig(server!.openaiBaseUrl, { tasks: shared }, { api_key: key }));
    const [p, m1, m2, m3, d] = [machine(keys.parent), machine(keys.w1), machine(keys.w2), machine(keys.w3), machine(keys.desk)];
    const cli = (home: typeof p, args: string[]) => ({ args: ['--config', home.configFile, ...args], options: { home: home.home, cwd: p.work } });
    const start = (home: typeof p, args: string[]): RunningCli => {
      const { args: full, options } = cli(home, args);
      const started = startCli(full, options);
      running.push(started);
      return started;
    };
    const run = (home: typeof p, args: string[]) => {
      const { args: full, options } = cli(home, args);
      return runCli(full, options);
    };

    // Three workers, on three "machines", wait for work; a dispatch-only parent spawns 20 tasks.
    const [w1, w2, w3] = [
      start(m1, ['worker', '--concurrency', '3']),
      start(m2, ['worker', '--concurrency', '3']),
      start(m3, ['worker', '--concurrency', '3']),
    ];
    await until(() => [w1, w2, w3].every((worker) => /legate worker \S+: running tasks/.test(worker.stderr())), 30_000, 'the workers to start');
    const spawned = await run(p, ['run', '--dispatch-only', '--no-wait', 'spawn the twenty tasks']);
    expect(spawned.code, spawned.stderr).toBe(0);
    expect(spawned.stdout).toContain('all 20 spawned');

    // Worker 1 holds three tasks, each stuck in a model call after its first step; then it dies.
    await until(() => hangingOnW1.count === 3, 30_000, 'worker 1 to be mid-step in three tasks');
    w1.kill('SIGKILL');
    await w1.done;

    // The parent's second model call carries the spawned ids, in the order of its tool calls.
    const ids = taskIds(server.requests.find((request) => !isChild(request) && request.text.includes('"task_id"'))!);
    expect(ids).toHaveLength(20);
    const idOf = (goal: string) => ids[goals.indexOf(goal)]!;

    // A steer and a cancel from the fifth process reach the worker running each task: the steer at
    // its next model call, the cancel aborting its model call within 1 s.
    await until(() => steerCallKey !== undefined && steerCallKey !== keys.w1, 30_000, 'the steered task to run on worker 2 or 3');
    await until(() => cancelCallKey !== undefined && cancelCallKey !== keys.w1, 30_000, 'the cancelled task to run on worker 2 or 3');
    const cancelCall = () => server!.requests.find((request) => request.apiKey === cancelCallKey && isChild(request) && goalOf(request) === 'CANCEL-GOAL');
    const [steered, cancelledAt] = await Promise.all([
      run(d, ['tasks', 'steer', idOf('STEER-GOAL'), 'STEER-MESSAGE']),
      run(d, ['tasks', 'cancel', idOf('CANCEL-GOAL')]).then((cancelled) => {
        expect(cancelled.code, cancelled.stderr).toBe(0);
        return Date.now();
      }),
    ]);
    expect(steered.code, steered.stderr).toBe(0);
    steerGate.open();
    await until(() => cancelCall()?.aborted === true, 5_000, 'the cancelled model call to be aborted');
    expect(cancelCall()!.finishedAt! - cancelledAt).toBeLessThan(1_000);

    // The fifth process collects every result (exit 1: one task ended cancelled).
    const collected = await run(d, ['tasks', 'collect', ...ids, '--timeout', '90']);
    expect(collected.code, collected.stderr).toBe(1);
    for (const goal of goals.slice(0, 18)) expect(collected.stdout).toContain(`${idOf(goal)}: RESULT-${goal}`);
    expect(collected.stdout).toContain(`${idOf('STEER-GOAL')}: STEERED-RESULT`);
    expect(collected.stdout).toContain(`${idOf('CANCEL-GOAL')} cancelled: cancelled by the user`);
    const steerCall = server.requests.find((request) => isChild(request) && goalOf(request) === 'STEER-GOAL' && request.text.includes('STEER-MESSAGE'))!;
    expect(steerCall.apiKey).toBe(steerCallKey);

    // No completed step ran twice: each answered (goal, step) pair was answered once. Worker 1's
    // three tasks were resumed elsewhere after their first step (its answer is not asked again).
    const answered = server.requests.filter((request) => isChild(request) && !request.aborted && request.finishedAt !== undefined);
    const pairs = answered.map((request) => `${goalOf(request)}#${stepOf(request)}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    const resumed = server.requests.filter((request) => request.apiKey === keys.w1 && isChild(request) && stepOf(request) === 2).map(goalOf);
    expect(resumed.length).toBeGreaterThan(0);
    for (const goal of resumed) {
      expect(answered.filter((request) => goalOf(request) === goal && stepOf(request) === 1).map((request) => request.apiKey)).toEqual([keys.w1]);
      expect(answered.filter((request) => goalOf(request) === goal && stepOf(request) === 2).map((request) => request.apiKey)).not.toContain(keys.w1);
    }
    // Workers 2 and 3 both ran tasks, each with its own key.
    const ranBy = new Set(answered.map((request) => request.apiKey));
    expect(ranBy).toContain(keys.w2);
    expect(ranBy).toContain(keys.w3);

    w2.kill('SIGINT');
    w3.kill('SIGINT');
    expect((await w2.done).code).toBe(0);
    expect((await w3.done).code).toBe(0);

    const stored = await dumpKeys(redis!);
    expect(stored).toContain('RESULT-GOAL-01');
    for (const key of Object.values(keys)) expect(stored).not.toContain(key);
    expect(stored).not.toContain('SECRET');
  }, 120_000);
});
