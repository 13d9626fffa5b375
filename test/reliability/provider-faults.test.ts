import { afterEach, describe, expect, it } from 'vitest';
import { type RecordedRequest, type ScriptedServer, type ScriptedStep, startScriptedServer } from '../../src/testing/scripted-server.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { childWith, isParent, lastToolResults } from '../helpers/script.js';

/**
 * Provider faults injected into CHILDREN's model calls, through the real CLI (`legate run` with one
 * `delegate_task` batch, one child per fault). Each child ends as the fault deserves: retried or
 * rotated and `completed`, or `failed` with the reason; never `completed` on an error.
 */

const KEY_A = 'sk-test-fault-aaaa-1111';
const KEY_B = 'sk-test-fault-bbbb-2222';
const env = { FAULT_KEY_A: KEY_A, FAULT_KEY_B: KEY_B };

let server: ScriptedServer;
afterEach(async () => {
  await server?.close();
});

/** Goal markers: bracketed, so none is a substring of another. */
const marker = (name: string): string => `[${name}]`;

interface Fault {
  name: string;
  /** The child's model replies, in order. */
  steps: ScriptedStep['reply'][];
  expected: 'completed' | 'failed';
  /** The failed child's error must match. */
  error?: RegExp;
  /** The child's output buffer (its retries) must match. */
  output?: RegExp;
}

const answer = (name: string): string => `SUMMARY ${name}: done`;

interface ChildResult {
  task_id: string;
  status: string;
  summary: string;
  error?: string;
  exit_reason: string;
}

/** Every child's result from the parent's `delegate_task` result, by fault name. */
function batchResults(faults: Fault[]): Map<string, ChildResult> {
  const parents = server.requests.filter(isParent);
  const [batch] = lastToolResults(parents.at(-1)!);
  expect(batch.results).toHaveLength(faults.length);
  return new Map(faults.map((fault, index) => [fault.name, batch.results[index] as ChildResult]));
}

function expectHonest(result: ChildResult, fault: Fault): void {
  expect(result.status, `${fault.name}: ${JSON.stringify(result)}`).toBe(fault.expected);
  if (fault.expected === 'completed') {
    expect(result.summary).toBe(answer(fault.name));
    expect(result.error).toBeUndefined();
    expect(result.exit_reason).toBe('completed');
  } else {
    expect(result.exit_reason).toBe('error');
    expect(result.error, fault.name).toMatch(fault.error!);
    expect(result.summary).not.toContain('SUMMARY');
  }
}

async function runBatch(faults: Fault[], model: Record<string, unknown>): Promise<{ home: string; work: string; configFile: string; stdout: string }> {
  server = await startScriptedServer();
  server.enqueue(
    {
      label: 'parent-delegates',
      match: isParent,
      reply: { toolCalls: [{ name: 'delegate_task', arguments: { tasks: faults.map((fault) => ({ goal: `${marker(fault.name)} survive the fault` })) } }] },
    },
    { label: 'parent-answers', match: isParent, reply: { text: 'PARENT-DONE' } },
  );
  for (const fault of faults) {
    fault.steps.forEach((reply, index) => server.enqueue({ label: `${fault.name}#${index + 1}`, match: childWith(marker(fault.name)), reply }));
  }
  const { home, work, configFile } = tempHome({
    model: { provider: 'openai', name: 'parent-model', base_url: server.openaiBaseUrl, api_keys: ['${FAULT_KEY_A}', '${FAULT_KEY_B}'], ...model },
    delegation: { max_concurrent_children: 20 },
  });
  const result = await runCli(['--config', configFile, 'run', '--json', 'run the fault batch'], { home, cwd: work, env });
  expect(result.code, result.stderr).toBe(0);
  const json = JSON.parse(result.stdout);
  expect(json).toMatchObject({ status: 'completed', final: 'PARENT-DONE' });
  // The run's own task list agrees with the batch results: statuses as expected.
  const byGoal = new Map((json.tasks as { goal: string; status: string }[]).map((task) => [task.goal, task.status]));
  for (const fault of faults) expect(byGoal.get(`${marker(fault.name)} survive the fault`), fault.name).toBe(fault.expected);
  server.assertDone();
  return { home, work, configFile, stdout: result.stdout };
}

/** What `legate tasks show --json` says about a task, from a separate process reading state.db. */
async function show(where: { home: string; work: string; configFile: string }, taskId: string): Promise<{ status: string; error?: string; output: string[] }> {
  const shown = await runCli(['--config', where.configFile, 'tasks', 'show', taskId, '--json'], { home: where.home, cwd: where.work, env });
  expect(shown.code, shown.stderr).toBe(0);
  return JSON.parse(shown.stdout);
}

const childRequests = (name: string): RecordedRequest[] => server.requests.filter(childWith(marker(name)));

describe('provider faults in a child, through the CLI', () => {
  it('429 / 5xx / reset / cut / malformed / bad tool arguments: each child retried, rotated or failed with the reason', async () => {
    const faults: Fault[] = [
      {
        name: 'F-429-SHORT',
        steps: [{ status: 429, headers: { 'retry-after': '0.2' } }, { text: answer('F-429-SHORT') }],
        expected: 'completed',
        output: /retry 2 in \d+ ms: (HTTP 429|every key)/,
      },
      { name: 'F-429-ROTATE', steps: [{ status: 429 }, { text: answer('F-429-ROTATE') }], expected: 'completed' },
      { name: 'F-500', steps: [{ status: 500 }, { text: answer('F-500') }], expected: 'completed', output: /retry 2 in \d+ ms: HTTP 500/ },
      { name: 'F-502', steps: [{ status: 502 }, { text: answer('F-502') }], expected: 'completed', output: /retry 2 in \d+ ms: HTTP 502/ },
      { name: 'F-503', steps: [{ status: 503 }, { text: answer('F-503') }], expected: 'completed', output: /retry 2 in \d+ ms: HTTP 503/ },
      { name: 'F-500-FOREVER', steps: [{ status: 500 }, { status: 500 }, { status: 500 }], expected: 'failed', error: /gave up after 3 attempts: HTTP 500/ },
      { name: 'F-RESET', steps: [{ resetConnection: true }, { text: answer('F-RESET') }], expected: 'completed', output: /retry 2 in \d+ ms: network error/ },
      {
        name: 'F-CUT',
        steps: [{ text: 'a partial answer that the network cuts off somewhere in the middle', cutStream: true }, { text: answer('F-CUT') }],
        expected: 'completed',
        output: /retry 2 in \d+ ms \(partial reply discarded\): stream (interrupted|ended before)/,
      },
      {
        name: 'F-CUT-FOREVER',
        steps: [
          { text: 'cut one, somewhere in the middle of it', cutStream: true },
          { text: 'cut two, somewhere in the middle of it', cutStream: true },
          { text: 'cut three, somewhere in the middle of it', cutStream: true },
        ],
        expected: 'failed',
        error: /gave up after 3 attempts: stream (interrupted|ended before)/,
      },
      {
        name: 'F-MALFORMED',
        steps: [{ text: 'an answer whose stream turns into broken json halfway', malformed: true }],
        expected: 'failed',
        error: /malformed stream data/,
      },
      {
        name: 'F-BAD-ARGS',
        steps: [
          {
            toolCalls: [
              { name: 'read_file', arguments: { path: 42 } },
              { name: 'write_file', arguments: '{"path": "x.txt", "content":' },
              { name: 'no_such_tool', arguments: {} },
            ],
          },
          { text: answer('F-BAD-ARGS') },
        ],
        expected: 'completed',
      },
    ];
    const where = await runBatch(faults, { max_retries: 2 });
    const results = batchResults(faults);
    for (const fault of faults) expectHonest(results.get(fault.name)!, fault);

    // 429, with a short retry-after or none: the limited key rests and the next attempt takes the
    // other key (key B: A is the first key, and whichever child limits it first keeps it resting).
    const short = childRequests('F-429-SHORT');
    expect(short).toHaveLength(2);
    expect(short[1]!.apiKey).toBe(KEY_B);
    expect(new Set(childRequests('F-429-ROTATE').map((request) => request.apiKey))).toEqual(new Set([KEY_A, KEY_B]));
    // max_retries 2: three attempts, then the status in the error; a cut stream is retried with the
    // same request (stream-faults.test.ts), a malformed one is not.
    expect(childRequests('F-500-FOREVER')).toHaveLength(3);
    expect(childRequests('F-CUT')).toHaveLength(2);
    expect(childRequests('F-CUT')[1]!.body).toEqual(childRequests('F-CUT')[0]!.body);
    expect(childRequests('F-CUT-FOREVER')).toHaveLength(3);
    expect(childRequests('F-MALFORMED')).toHaveLength(1);

    // Invalid tool arguments: error results the child reads, then it completes.
    const [, afterTools] = childRequests('F-BAD-ARGS');
    const toolResults = lastToolResults(afterTools!);
    expect(toolResults[0]).toMatch(/^invalid_arguments: read_file: path: expected string, received number/);
    expect(toolResults[1]).toMatch(/^invalid_arguments: arguments for write_file are not valid JSON/);
    expect(toolResults[2]).toMatch(/^unknown_tool: no tool named "no_such_tool"/);

    // The stored record (read by another process) says the same, retries are in the output.
    const stored = await Promise.all(faults.map((fault) => show(where, results.get(fault.name)!.task_id)));
    for (const [index, fault] of faults.entries()) {
      const { status, error, output } = stored[index]!;
      expect(status, fault.name).toBe(fault.expected);
      if (fault.expected === 'failed') expect(error).toMatch(fault.error!);
      else expect(error).toBeUndefined();
      if (fault.output) expect(output.join('\n'), fault.name).toMatch(fault.output);
    }
    // No raw key in what the user saw.
    expect(where.stdout).not.toContain(KEY_A);
    expect(where.stdout).not.toContain(KEY_B);
  });

  it('a hung response hits model.request_timeout_seconds: retried once, or failed with a timeout reason', async () => {
    const faults: Fault[] = [
      {
        name: 'F-HANG-ONCE',
        steps: [{ hang: true }, { text: answer('F-HANG-ONCE') }],
        expected: 'completed',
        output: /retry 2 in \d+ ms: timed out: no response data for 1000 ms/,
      },
      {
        name: 'F-HANG-FOREVER',
        steps: [{ hang: true }, { hang: true }],
        expected: 'failed',
        error: /gave up after 2 attempts: timed out: no response data for 1000 ms/,
      },
      {
        name: 'F-SLOW-CHUNKS',
        steps: [{ text: 'a stream that stalls between its chunks for too long', chunkDelayMs: 1500 }, { text: answer('F-SLOW-CHUNKS') }],
        expected: 'completed',
        output: /retry 2 in \d+ ms \(partial reply discarded\): timed out: no response data for 1000 ms/,
      },
    ];
    const where = await runBatch(faults, { max_retries: 1, request_timeout_seconds: 1 });
    const results = batchResults(faults);
    for (const fault of faults) expectHonest(results.get(fault.name)!, fault);
    // The client gave up on each hung request (the server saw it disconnect).
    for (const request of [...childRequests('F-HANG-FOREVER'), childRequests('F-HANG-ONCE')[0]!]) expect(request.aborted).toBe(true);
    // A stream that stalls mid-message is retried like a hung one.
    expect(childRequests('F-SLOW-CHUNKS')).toHaveLength(2);
    const once = await show(where, results.get('F-HANG-ONCE')!.task_id);
    expect(once.output.join('\n')).toMatch(faults[0]!.output!);
  });

  it("a fault in the top-level agent's own call, past its retries, fails the run (exit 1, status failed), never a completed answer", async () => {
    const cut = { reply: { text: 'the top-level answer gets cut in the middle of the stream', cutStream: true } };
    server = await startScriptedServer({ steps: [cut, cut, cut] });
    const { home, work, configFile } = tempHome({
      model: { provider: 'openai', name: 'parent-model', base_url: server.openaiBaseUrl, api_key: '${FAULT_KEY_A}', max_retries: 2 },
    });
    const result = await runCli(['--config', configFile, 'run', '--json', 'answer me'], { home, cwd: work, env });
    expect(result.code).toBe(1);
    const json = JSON.parse(result.stdout);
    expect(json.status).toBe('failed');
    expect(json.exit_reason).toBe('error');
    expect(json.error).toMatch(/gave up after 3 attempts: stream (interrupted|ended before)/);
    expect(json.final).not.toContain('cut in the middle');
    expect(result.stderr).toMatch(/run failed \(error\)/);
    expect(server.requests).toHaveLength(3);
    server.assertDone();
  });
});
