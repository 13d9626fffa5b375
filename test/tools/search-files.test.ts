import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { LineMatcher, lineMatcher } from '../../src/tools/file/line-matcher.js';
import { callTool, tempDir } from './tool-harness.js';

/** A pattern that backtracks exponentially on a line of "a"s ending in "!". */
const catastrophic = '^(a+)+$';
const evilLine = `${'a'.repeat(40)}!`;

async function tree(): Promise<string> {
  const dir = await tempDir();
  await mkdir(join(dir, 'src/deep'), { recursive: true });
  await mkdir(join(dir, 'node_modules/pkg'), { recursive: true });
  await mkdir(join(dir, '.git'));
  await writeFile(join(dir, 'src/main.ts'), 'import x from "y";\nfunction main() {\n  return 1;\n}\n');
  await writeFile(join(dir, 'src/deep/util.ts'), 'export function helper() {}\n');
  await writeFile(join(dir, 'src/notes.md'), 'function in prose\n');
  await writeFile(join(dir, 'node_modules/pkg/index.js'), 'function hidden() {}\n');
  await writeFile(join(dir, '.git/config'), 'function git() {}\n');
  await writeFile(join(dir, 'image.bin'), Buffer.concat([Buffer.from('function '), Buffer.from([0, 0, 1])]));
  return dir;
}

describe('search_files', () => {
  it('finds matching lines across the tree, skipping node_modules, .git and binary files', async () => {
    const dir = await tree();
    const result = await callTool(dir, 'search_files', { pattern: 'function\\s+\\w+\\(' });
    expect(result.isError).toBe(false);
    expect(result.content.split('\n').sort()).toEqual(['src/deep/util.ts:1: export function helper() {}', 'src/main.ts:2: function main() {']);
  });

  it('filters by glob on base name or relative path', async () => {
    const dir = await tree();
    const md = await callTool(dir, 'search_files', { pattern: 'function', glob: '*.md' });
    expect(md.content).toBe('src/notes.md:1: function in prose');
    const deep = await callTool(dir, 'search_files', { pattern: 'function', path: 'src', glob: 'deep/**/*.ts' });
    expect(deep.content).toBe('src/deep/util.ts:1: export function helper() {}');
  });

  it('searches a single file and stops at max_results', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'many.txt'), 'hit\n'.repeat(50));
    const result = await callTool(dir, 'search_files', { pattern: 'hit', path: 'many.txt', max_results: 3 });
    const lines = result.content.split('\n');
    expect(lines.slice(0, 3)).toEqual(['many.txt:1: hit', 'many.txt:2: hit', 'many.txt:3: hit']);
    expect(lines[3]).toContain('stopped after 3 matches');
  });

  it('says when nothing matched', async () => {
    const dir = await tree();
    const result = await callTool(dir, 'search_files', { pattern: 'zebra' });
    expect(result).toMatchObject({ isError: false });
    expect(result.content).toContain('no matches for "zebra"');
  });

  it('names an invalid regex', async () => {
    const dir = await tree();
    const result = await callTool(dir, 'search_files', { pattern: 'foo(' });
    expect(result.isError).toBe(true);
    expect(result.content).toMatch(/^tool_failed: search_files: invalid regular expression "foo\(": /);
  });

  it('names a missing search path', async () => {
    const dir = await tempDir();
    const result = await callTool(dir, 'search_files', { pattern: 'x', path: 'absent' });
    expect(result.content).toBe(`tool_failed: search_files: path not found: ${join(dir, 'absent')}`);
  });

  it('a catastrophic pattern does not stall the process: other work goes on, and cancelling the call ends it', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'evil.txt'), `${evilLine}\n`);
    await writeFile(join(dir, 'fine.txt'), 'needle\n');
    const controller = new AbortController();
    let stuckEnded = false;
    const stuck = callTool(dir, 'search_files', { pattern: catastrophic, path: 'evil.txt' }, controller.signal).finally(() => (stuckEnded = true));
    // The event loop stays free: a timer fires and another search completes while the stuck one still runs
    // (it ends only when cancelled), which a search on the main thread would not allow.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stuckEnded).toBe(false);
    const other = await callTool(dir, 'search_files', { pattern: 'needle' });
    expect(other.content).toBe('fine.txt:1: needle');
    expect(stuckEnded).toBe(false);
    controller.abort();
    const result = await stuck;
    expect(result.isError).toBe(true);
    expect(result.content).toMatch(/cancelled|aborted/);
  });
});

describe('LineMatcher', () => {
  it('gives up a pattern that runs over its budget, naming the reason, and keeps serving others', async () => {
    const matcher = new LineMatcher(1);
    const signal = new AbortController().signal;
    await expect(matcher.match(catastrophic, evilLine, 10, signal, 200)).rejects.toThrow(/matching took over 0.2 s \(catastrophic backtracking\?\)/);
    expect(await matcher.match('b', 'a\nb\nab\r\nc', 10, signal)).toEqual([
      [1, 'b'],
      [2, 'ab'],
    ]);
    expect(await matcher.match('x', 'x\nx\nx', 2, signal)).toEqual([
      [0, 'x'],
      [1, 'x'],
    ]);
    await matcher.close();
  });

  it('queues jobs beyond its workers; a queued job whose signal aborts leaves the queue at once', async () => {
    const matcher = new LineMatcher(1);
    const blocking = new AbortController();
    const blocker = matcher.match(catastrophic, evilLine, 1, blocking.signal, 60_000);
    const waiting = new AbortController();
    let blockerEnded = false;
    blocker.catch(() => undefined).finally(() => (blockerEnded = true));
    const queued = matcher.match('a', 'a', 1, waiting.signal);
    waiting.abort();
    await expect(queued).rejects.toThrow('search cancelled');
    // Not held until the busy worker frees up: the blocker is still running.
    expect(blockerEnded).toBe(false);
    blocking.abort();
    await expect(blocker).rejects.toThrow('search cancelled');
    expect(await matcher.match('a', 'a', 1, new AbortController().signal)).toEqual([[0, 'a']]);
    await matcher.close();
  });

  it('close rejects queued and running jobs and stops the workers', async () => {
    const matcher = new LineMatcher(1);
    const signal = new AbortController().signal;
    const running = matcher.match(catastrophic, evilLine, 1, signal, 60_000);
    const queued = matcher.match('a', 'a', 1, signal);
    await matcher.close();
    await expect(running).rejects.toThrow('search cancelled');
    await expect(queued).rejects.toThrow('search cancelled');
  });

  it('search_files names the pattern and the file when matching runs over its budget', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'evil.txt'), `${evilLine}\n`);
    const spy = vi
      .spyOn(lineMatcher, 'match')
      .mockRejectedValueOnce(new Error('matching took over 10 s (catastrophic backtracking?); simplify the pattern or narrow the search'));
    try {
      const result = await callTool(dir, 'search_files', { pattern: catastrophic });
      expect(result.isError).toBe(true);
      expect(result.content).toBe(
        'tool_failed: search_files: pattern "^(a+)+$" on evil.txt: matching took over 10 s (catastrophic backtracking?); ' +
          'simplify the pattern or narrow the search',
      );
    } finally {
      spy.mockRestore();
    }
  });
});
