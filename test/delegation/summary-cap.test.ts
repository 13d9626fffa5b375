import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitResult, resultCap } from '../../src/delegation/result-fit.js';
import { batchShares, capSummary } from '../../src/delegation/summary-cap.js';
import { collectView, completionNotice } from '../../src/delegation/views.js';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import type { RecordedRequest } from '../../src/testing/scripted-script.js';
import { home } from '../cli/cli-harness.js';
import { runMain } from '../helpers/main.js';
import { runtimeOnScripted, toolCaller, useScriptedServer } from '../helpers/scripted.js';
import { taskFixture } from '../tasks/store-conformance.js';

/** Issue 26: results that do not flood the parent. A summary of `n` characters, its ends marked. */
function summaryOf(n: number, tag: string): string {
  const head = `HEAD-${tag}-`;
  const tail = `-TAIL-${tag}`;
  return head + 'x'.repeat(n - head.length - tail.length) + tail;
}

/** A runtime whose children answer with a summary as long as their goal says ("write 30000"). */
async function summarisingRuntime(delegation: Record<string, unknown> = {}) {
  const server = await useScriptedServer({
    handler: (request: RecordedRequest) => {
      const match = /write (\d+) as (\w+)/.exec(request.text);
      return { text: match ? summaryOf(Number(match[1]), match[2]!) : 'parent' };
    },
  });
  const runtime = runtimeOnScripted(server, 'openai', { delegation });
  const call = toolCaller(runtime, 's_cap');
  return { server, runtime, call };
}

describe('summary caps (pure)', () => {
  it('a long summary keeps its head and tail within the cap, the marker naming the task, the offset and legate tasks show', () => {
    const summary = summaryOf(30_000, 'a');
    const capped = capSummary('t_long0001', summary, 12_000);
    expect(capped.summary.length).toBeLessThanOrEqual(12_000);
    expect(capped.summary.startsWith('HEAD-a-')).toBe(true);
    expect(capped.summary.endsWith('-TAIL-a')).toBe(true);
    const from = capped.cut!.omittedFrom;
    expect(capped.summary).toContain(`check_task {"task_id":"t_long0001","offset":${from}}`);
    expect(capped.summary).toContain('legate tasks show t_long0001');
    expect(capped.summary).toContain(`${capped.cut!.omittedChars} of 30000 characters`);
    // The head ends exactly where the offset the marker names starts.
    expect(capped.summary.slice(0, from)).toBe(summary.slice(0, from));
    expect(capSummary('t_short001', 'short', 12_000)).toEqual({ summary: 'short' });
  });

  it('a batch shares one cap: short summaries keep all they have, long ones split the rest, none over the per-summary cap', () => {
    const shares = batchShares([500, 37_000, 15_000, 30_000, 2_000], 48_000, 12_000);
    expect(shares[0]).toBe(500);
    expect(shares[4]).toBe(2_000);
    expect(shares.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(48_000);
    for (const share of shares) expect(share).toBeLessThanOrEqual(12_000);
    expect(shares[1]).toBe(shares[3]);
    expect(batchShares([100, 200], 48_000, 12_000)).toEqual([100, 200]);
  });

  it('a collect result with a full output buffer and a long summary stays whole JSON under the tool output cap, the newest lines kept', () => {
    const task = taskFixture({ id: 't_fit00001', status: 'completed', summary: summaryOf(12_000, 'f') });
    const output = Array.from({ length: 200 }, (_, index) => `← read_file: line ${index} ${'z'.repeat(300)}`);
    const fitted = fitResult([{ summaryLength: 12_000, output }], 12_000, ([share], [lines]) => collectView(task, lines!, [], false, {}, share));
    expect(JSON.stringify(fitted).length).toBeLessThanOrEqual(resultCap);
    expect(fitted.summary).toBe(summaryOf(12_000, 'f'));
    expect(String(fitted.output)).toContain('line 199 ');
    expect(String(fitted.output)).not.toContain('line 0 ');
  });

  it('a completion notice carries the capped summary', () => {
    const task = taskFixture({ id: 't_notice01', status: 'completed', summary: summaryOf(20_000, 'n') });
    const notice = completionNotice(task, 5_000);
    expect(notice.length).toBeLessThan(5_000 + 300);
    expect(notice).toContain('-TAIL-n');
    expect(notice).toContain('legate tasks show t_notice01');
  });
});

describe('summaries that reach the parent', () => {
  it('collect_task returns a 30k summary as head and tail; check_task with offset pages the rest; the store keeps it whole', async () => {
    const { call } = await summarisingRuntime();
    const spawned = await call('delegate_task_async', { goal: 'write 30000 as one' });
    const collected = await call('collect_task', { task_id: spawned.task_id, timeout: 30 });
    expect(collected).toMatchObject({ status: 'completed', summary_truncated: true, summary_chars: 30_000 });
    expect(collected.summary.length).toBeLessThanOrEqual(12_000);
    const offset = Number(/"offset":(\d+)/.exec(collected.summary)![1]);
    const whole = summaryOf(30_000, 'one');
    const page1 = await call('check_task', { task_id: spawned.task_id, offset });
    expect(page1).toMatchObject({ summary_offset: offset, summary_chars: 30_000, next_offset: offset + 12_000 });
    expect(page1.summary).toBe(whole.slice(offset, offset + 12_000));
    // Paging on from each next_offset reads the rest of the stored summary exactly.
    let rest = page1.summary as string;
    for (let page = page1; page.next_offset !== undefined; ) {
      page = await call('check_task', { task_id: spawned.task_id, offset: page.next_offset });
      rest += page.summary;
    }
    expect(collected.summary.slice(0, offset) + rest).toBe(whole);
    await expect(call('check_task', { task_id: spawned.task_id, offset: -1 })).rejects.toThrow(/offset must be a number of characters >= 0/);
  });

  it('delegate_task with seven children of 15–37k characters: the batch stays within one cap, each cut child names how to read it', async () => {
    const { call } = await summarisingRuntime({ max_summary_chars: 12_000 });
    const sizes = [15_000, 37_000, 22_000, 30_000, 18_000, 26_000, 33_000];
    const result = await call('delegate_task', { tasks: sizes.map((size, index) => ({ goal: `write ${size} as c${index}` })) });
    const summaries = result.results.map((entry: any) => entry.summary as string);
    const total = summaries.reduce((sum: number, summary: string) => sum + summary.length, 0);
    // Within one batch cap, and the whole result stays whole JSON under the tool output cap (call() parsed it).
    expect(total).toBeLessThanOrEqual(4 * 12_000);
    expect(JSON.stringify(result).length).toBeLessThanOrEqual(20_000);
    for (const [index, entry] of result.results.entries()) {
      expect(entry).toMatchObject({ status: 'completed', summary_truncated: true, summary_chars: sizes[index] });
      expect(entry.summary).toContain(`HEAD-c${index}-`);
      expect(entry.summary).toContain(`-TAIL-c${index}`);
      expect(entry.summary).toContain(`legate tasks show ${entry.task_id}`);
    }
  });

  it('collect_task with task_ids caps the batch as a whole', async () => {
    const { call } = await summarisingRuntime({ max_summary_chars: 4_000 });
    const ids: string[] = [];
    for (const size of [300, 9_000, 9_000]) ids.push((await call('delegate_task_async', { goal: `write ${size} as k${size}` })).task_id);
    const collected = await call('collect_task', { task_ids: ids, timeout: 30 });
    const [short, long1, long2] = collected.results;
    expect(short.summary).toBe(summaryOf(300, 'k300'));
    expect(short.summary_truncated).toBeUndefined();
    expect(long1.summary_truncated).toBe(true);
    expect(short.summary.length + long1.summary.length + long2.summary.length).toBeLessThanOrEqual(4 * 4_000);
    expect(long1.summary.length).toBeLessThanOrEqual(4_000);
  });

  it('legate tasks show prints the whole summary and the context in use', async () => {
    const dirs = home({ model: { provider: 'openai', name: 'm', base_url: 'http://127.0.0.1:9/v1' } });
    const store = SqliteTaskStore.open(join(dirs.home, 'state.db'));
    const whole = summaryOf(30_000, 'show');
    await store.create(
      taskFixture({
        id: 't_show0001',
        cwd: dirs.work,
        status: 'completed',
        summary: whole,
        endedAt: Date.now(),
        contextUse: { tokens: 61_000, window: 100_000, compactions: 3 },
      }),
    );
    await store.close();
    const shown = await runMain(['--config', dirs.configFile, 'tasks', 'show', 't_show0001'], { home: dirs.home, cwd: dirs.work });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(whole);
    expect(shown.stdout).toContain('context 61% of 100k, compacted 3×');
  });
});
