import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import type { TaskRecord } from '../../src/tasks/task-record.js';
import { runMain } from '../helpers/main.js';
import { taskFixture } from '../tasks/store-conformance.js';
import { home } from './cli-harness.js';

const day = 86_400_000;

/** A LEGATE_HOME whose config names a model but no key, holding `tasks`. */
async function keylessHome(
  tasks: Partial<TaskRecord>[],
): Promise<{ home: string; work: string; configFile: string; cli(args: string[]): ReturnType<typeof runMain> }> {
  const dirs = home({ model: { provider: 'openai', name: 'm', base_url: 'http://127.0.0.1:9/v1' } });
  const store = SqliteTaskStore.open(join(dirs.home, 'state.db'));
  for (const task of tasks) await store.create(taskFixture({ cwd: dirs.work, ...task }));
  await store.appendOutput(tasks[0]!.id!, { lines: ['OUTPUT-LINE-1'], progress: { apiCalls: 1 } });
  await store.close();
  return { ...dirs, cli: (args) => runMain(['--config', dirs.configFile, ...args], { home: dirs.home, cwd: dirs.work }) };
}

describe('legate tasks', () => {
  it('list, show and collect read the store without an API key; resume (which runs a model) still needs one', async () => {
    const { cli } = await keylessHome([
      { id: 't_done0001', status: 'completed', goal: 'GOAL-DONE', summary: 'SUMMARY-DONE', startedAt: Date.now() - 3000, endedAt: Date.now() },
    ]);

    const list = await cli(['tasks', 'list']);
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('t_done0001');
    const show = await cli(['tasks', 'show', 't_done0001']);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('OUTPUT-LINE-1');
    const collect = await cli(['tasks', 'collect', 't_done0001']);
    expect(collect.code, collect.stderr).toBe(0);
    expect(collect.stdout).toBe('SUMMARY-DONE\n');
    const badStatus = await cli(['tasks', 'list', '--status', 'bogus']);
    expect(badStatus.stderr).toContain('unknown status "bogus"');

    const resume = await cli(['tasks', 'resume', 't_done0001']);
    expect(resume.stderr).toContain('config_missing_key');
  });

  it('usage errors exit 2; an unknown task exits 1', async () => {
    const { cli } = await keylessHome([{ id: 't_done0002', status: 'completed', summary: 'S', endedAt: Date.now() }]);
    const usage = {
      timeout: await cli(['tasks', 'collect', 't_done0002', '--timeout', 'abc']),
      status: await cli(['tasks', 'list', '--status', 'bogus']),
      repeated: await cli(['tasks', 'collect', 't_done0002', 't_done0002']),
      age: await cli(['tasks', 'prune', '--older-than', 'soon']),
      option: await cli(['tasks', 'list', '--frobnicate']),
    };
    expect(usage.timeout.stderr).toContain('--timeout must be a number of seconds (got "abc")');
    expect(usage.repeated.stderr).toContain('task "t_done0002" is listed more than once');
    expect(usage.age.stderr).toContain('--older-than must be an age such as 30m, 12h or 7d (got "soon")');
    for (const [name, result] of Object.entries(usage)) expect(result.code, `${name}: ${result.stderr}`).toBe(2);
    const unknown = await cli(['tasks', 'show', 't_nothere']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('task_not_found: no task "t_nothere" in this LEGATE_HOME');
  });

  it("list has a header; with --all it shows each task's worker and directory", async () => {
    const { cli, work } = await keylessHome([
      {
        id: 't_here0001',
        status: 'completed',
        goal: 'GOAL-HERE',
        owner: 'box-b:4242:a1b2c3:machinekey',
        createdAt: Date.now() - 2000,
        startedAt: Date.now() - 2000,
        endedAt: Date.now(),
      },
      { id: 't_else0001', status: 'failed', goal: 'GOAL-ELSEWHERE', cwd: '/somewhere/else', createdAt: Date.now() - 1000, endedAt: Date.now() },
    ]);

    const here = (await cli(['tasks', 'list'])).stdout.trimEnd().split('\n');
    expect(here[0]).toMatch(/^ID +STATUS +ELAPSED +TOKENS +GOAL$/);
    expect(here.slice(1)).toEqual([expect.stringMatching(/^t_here0001 +completed +2s +0 +GOAL-HERE$/)]);
    const all = (await cli(['tasks', 'list', '--all'])).stdout.trimEnd().split('\n');
    expect(all[0]).toMatch(/^ID +STATUS +ELAPSED +TOKENS +WORKER +DIRECTORY +GOAL$/);
    expect(all.slice(1)).toEqual([
      expect.stringMatching(/^t_else0001 +failed +\d+(\.\d)?s +0 +- +\/somewhere\/else +GOAL-ELSEWHERE$/),
      expect.stringMatching(new RegExp(`^t_here0001 +completed +2s +0 +box-b:4242 +${work} +GOAL-HERE$`)),
    ]);
    const json = JSON.parse((await cli(['tasks', 'list', '--all', '--json'])).stdout) as { tasks: { task_id: string; worker?: string }[] };
    expect(json.tasks.find((task) => task.task_id === 't_here0001')?.worker).toBe('box-b:4242:a1b2c3:machinekey');
  });

  it('prune deletes ended tasks (older than --older-than, else all of them); queued, running and interrupted ones stay', async () => {
    const { cli } = await keylessHome([
      { id: 't_old00001', status: 'completed', endedAt: Date.now() - 10 * day },
      { id: 't_new00001', status: 'cancelled', endedAt: Date.now() - 60_000 },
      { id: 't_stuck001', status: 'interrupted', createdAt: Date.now() - 30 * day },
      { id: 't_queued01', status: 'queued', createdAt: Date.now() - 30 * day },
    ]);
    const ids = async (): Promise<string[]> =>
      JSON.parse((await cli(['tasks', 'list', '--json'])).stdout)
        .tasks.map((task: { task_id: string }) => task.task_id)
        .sort();

    const week = await cli(['tasks', 'prune', '--older-than', '7d']);
    expect(week.code, week.stderr).toBe(0);
    expect(week.stdout).toBe('pruned 1 ended task that ended more than 7d ago\n');
    expect(await ids()).toEqual(['t_new00001', 't_queued01', 't_stuck001']);
    const rest = await cli(['tasks', 'prune', '--json']);
    expect(JSON.parse(rest.stdout)).toEqual({ pruned: 1 });
    expect(await ids()).toEqual(['t_queued01', 't_stuck001']);
  });
});

describe('legate tasks show --transcript', () => {
  it('prints the full conversation from the checkpoint log, the turns a compaction dropped included, and marks each compaction', async () => {
    const dirs = home({ model: { provider: 'openai', name: 'm', base_url: 'http://127.0.0.1:9/v1' } });
    const store = SqliteTaskStore.open(join(dirs.home, 'state.db'));
    await store.create(taskFixture({ id: 't_trans001', cwd: dirs.work, status: 'completed', goal: 'TRANSCRIPT-GOAL', summary: 'done', endedAt: Date.now() }));
    const read = (n: number) => [
      { role: 'assistant' as const, content: `reading ${n}`, toolCalls: [{ id: `c${n}`, name: 'read_file', arguments: `{"path":"f${n}.txt"}` }] },
      { role: 'tool' as const, toolCallId: `c${n}`, name: 'read_file', content: `DROPPED-RESULT-${n}` },
    ];
    await store.appendCheckpoint('t_trans001', { step: 0, iteration: 1, messages: read(1) });
    await store.appendCheckpoint('t_trans001', { step: 1, iteration: 2, messages: read(2) });
    await store.appendCheckpoint('t_trans001', {
      step: 2,
      iteration: 3,
      messages: [],
      compaction: { firstKept: 3, handoff: 'HANDOFF-TEXT: read f1', tokensBefore: 2400, tokensAfter: 700 },
    });
    await store.appendCheckpoint('t_trans001', { step: 3, iteration: 3, messages: [{ role: 'assistant', content: 'FINAL-ANSWER' }] });
    await store.close();
    const cli = (args: string[]) => runMain(['--config', dirs.configFile, ...args], { home: dirs.home, cwd: dirs.work });

    const shown = await cli(['tasks', 'show', 't_trans001', '--transcript']);
    expect(shown.code, shown.stderr).toBe(0);
    const text = shown.stdout;
    // The brief, every message (those the compaction replaced too), the marker between them, in order.
    const order = [
      '── #0 user (brief)',
      'Goal:\nTRANSCRIPT-GOAL',
      'DROPPED-RESULT-1',
      'DROPPED-RESULT-2',
      '══ compaction 1 (after message #4)',
      'HANDOFF-TEXT: read f1',
      'FINAL-ANSWER',
    ];
    const positions = order.map((part) => text.indexOf(part));
    expect(
      positions.every((position) => position >= 0),
      text,
    ).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(text).toContain('context ~2400 → ~700 tokens');
    expect(text).toContain('then messages #3 on');
    expect(text).toContain('→ read_file {"path":"f2.txt"}');

    const json = JSON.parse((await cli(['tasks', 'show', 't_trans001', '--transcript', '--json'])).stdout);
    expect(json.transcript.messages).toHaveLength(5);
    expect(json.transcript.compactions).toEqual([{ step: 2, at: 4, firstKept: 3, handoff: 'HANDOFF-TEXT: read f1', tokensBefore: 2400, tokensAfter: 700 }]);
    // Without --transcript: the output buffer as before.
    expect((await cli(['tasks', 'show', 't_trans001'])).stdout).not.toContain('DROPPED-RESULT-1');
  });
});
