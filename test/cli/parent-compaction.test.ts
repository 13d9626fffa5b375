import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { handoffPrompt } from '../../src/agent/context/prepare-context.js';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import type { RecordedRequest, ScriptedReply } from '../../src/testing/scripted-script.js';
import { scriptedConfig, tempHome } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { isChild } from '../helpers/script.js';
import { useScriptedServer } from '../helpers/scripted.js';
import { gate } from '../tasks/task-runtime-helpers.js';

/**
 * Issue 26: `legate chat` compacts its own context, and after a compaction the parent still knows
 * every task it started: the hand-off ends with a note of their ids, goals and status, so a parent
 * whose summary forgot them (this scripted model's does) still collects them all.
 */
const goals = ['CHILD-GOAL-A: survey the parser', 'CHILD-GOAL-B: survey the lexer', 'CHILD-GOAL-C: survey the printer'];
const reads = 6;
const taskIds = (text: string): string[] => [...new Set(text.match(/\bt_[0-9a-f]{8}\b/g) ?? [])];

describe('a parent in chat that compacts', () => {
  it('starts three tasks, compacts (its summary forgets them), then collects every one of them', async () => {
    const release = gate();
    let collected: any;
    let collectRequest: RecordedRequest | undefined;
    const server = await useScriptedServer({
      handler: async (request): Promise<ScriptedReply> => {
        if (request.text.includes(handoffPrompt)) return { text: 'Goal: help the user.\nProgress: read big.txt several times.\nNext steps: do as asked.' };
        if (isChild(request)) {
          await release.opened; // running until the parent collects them, long after its compaction
          return { text: `SUMMARY: done with ${goals.find((goal) => request.text.includes(goal))!.slice(0, 12)}` };
        }
        const messages = request.body.messages as { role: string; content: unknown }[];
        const last = messages.at(-1)!;
        if (last.role === 'tool') {
          if (String(last.content).includes('"results"')) collected = JSON.parse(String(last.content));
          return { text: `ok ${'w'.repeat(1500)}` };
        }
        const said = String(last.content);
        if (said.includes('START-TASKS')) return { toolCalls: goals.map((goal) => ({ name: 'delegate_task_async', arguments: { goal } })) };
        if (said.includes('READ-MORE')) return { toolCalls: [{ name: 'read_file', arguments: { path: 'big.txt' } }] };
        if (said.includes('COLLECT-ALL')) {
          collectRequest = request;
          release.open();
          return { toolCalls: [{ name: 'collect_task', arguments: { task_ids: taskIds(request.text), timeout: 30 } }] };
        }
        return { text: 'noted' };
      },
    });
    const { home, work, configFile } = tempHome(
      scriptedConfig(server.openaiBaseUrl, { compaction: { reserve_tokens: 500, keep_tool_tokens: 600, keep_recent_tokens: 700 } }, { context_window: 3000 }),
    );
    writeFileSync(join(work, 'big.txt'), `BIG ${'z'.repeat(3000)}`);
    const lines = ['START-TASKS: start three background tasks', ...Array.from({ length: reads }, (_, i) => `READ-MORE-${i}: read big.txt`), 'COLLECT-ALL'];
    const chat = await runMain(['--config', configFile, 'chat'], { home, cwd: work, input: `${lines.join('\n')}\n` });
    expect(chat.code, chat.stderr).toBe(0);

    const store = SqliteTaskStore.open(join(home, 'state.db'));
    const started = (await store.list({ limit: 100 })).map((task) => task.id).sort();
    const [session] = await store.sessions.list();
    await store.close();
    expect(started).toHaveLength(3);

    // The parent compacted with a summary before collecting, and its delegation turns were dropped.
    const handoffAt = server.requests.findIndex((request) => request.text.includes(handoffPrompt) && request.text.includes('delegate_task_async'));
    expect(handoffAt).toBeGreaterThanOrEqual(0);
    expect(collectRequest!.index).toBeGreaterThan(handoffAt);
    expect(JSON.stringify(collectRequest!.body.messages)).not.toContain('"delegate_task_async"');
    // What it knows of them it knows from the note after the hand-off: each id, goal and status.
    const sent = JSON.stringify(collectRequest!.body.messages);
    expect(sent).toContain('Tasks you started (3)');
    for (const goal of goals) expect(sent).toContain(goal);
    expect(taskIds(collectRequest!.text).sort()).toEqual(started);
    // …and every task is collected, completed.
    expect(collected.results.map((result: any) => result.task_id).sort()).toEqual(started);
    for (const result of collected.results) expect(result).toMatchObject({ status: 'completed', summary: expect.stringContaining('SUMMARY: done with') });
    // The session keeps the whole conversation and its latest compaction (chat --resume continues from it).
    expect(session!.compaction?.handoff).toContain('Tasks you started (3)');
    expect(session!.messages.some((message) => message.role === 'assistant' && message.toolCalls?.some((call) => call.name === 'delegate_task_async'))).toBe(
      true,
    );

    // chat --resume continues from that compaction: the dropped turns are not sent again.
    const before = server.requests.length;
    const resumed = await runMain(['--config', configFile, 'chat', '--resume'], { home, cwd: work, input: 'RESUMED-LINE\n' });
    expect(resumed.code, resumed.stderr).toBe(0);
    const first = server.requests[before]!;
    expect(first.text).toContain('RESUMED-LINE');
    expect(first.text).not.toContain(handoffPrompt);
    expect(JSON.stringify(first.body.messages)).toContain('[Context compacted: earlier turns were replaced by this hand-off.]');
    expect(JSON.stringify(first.body.messages)).not.toContain('"delegate_task_async"');
    expect(server.unexpected).toEqual([]);
  });
});
