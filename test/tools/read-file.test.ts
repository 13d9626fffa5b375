import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { callTool, tempDir } from './tool-harness.js';

describe('read_file', () => {
  it('returns numbered lines, relative to cwd', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'a.txt'), 'alpha\nbeta\ngamma\n');
    const result = await callTool(dir, 'read_file', { path: 'a.txt' });
    expect(result).toEqual({ content: '1\talpha\n2\tbeta\n3\tgamma', isError: false });
  });

  it('pages by limit, saying where to continue', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'lines.txt'), Array.from({ length: 30 }, (_, i) => `l${i + 1}`).join('\n'));
    const first = await callTool(dir, 'read_file', { path: join(dir, 'lines.txt'), limit: 10 });
    expect(first.content.split('\n')[0]).toBe(' 1\tl1');
    expect(first.content).toContain('10\tl10\n[showing lines 1-10 of 30; pass offset=11 to read more]');
    const last = await callTool(dir, 'read_file', { path: 'lines.txt', offset: 29, limit: 10 });
    expect(last).toEqual({ content: '29\tl29\n30\tl30', isError: false });
  });

  it('pages a large file so every line is read exactly once, each page within the output cap', async () => {
    const dir = await tempDir();
    const lines = Array.from({ length: 5_000 }, (_, i) => `line ${i + 1} ${'·'.repeat(i % 70)}`);
    await writeFile(join(dir, 'big.txt'), `${lines.join('\n')}\n`);
    const seen: string[] = [];
    let offset = 1;
    for (let page = 0; page < 100; page += 1) {
      const result = await callTool(dir, 'read_file', { path: 'big.txt', offset });
      expect(result.isError).toBe(false);
      expect(result.content).not.toContain('characters omitted');
      const body = result.content.split('\n');
      const footer = /pass offset=(\d+)/.exec(body.at(-1)!);
      if (footer) body.pop();
      seen.push(...body.map((line) => line.replace(/^ *\d+\t/, '')));
      if (!footer) break;
      offset = Number(footer[1]);
    }
    expect(seen).toEqual(lines);
  });

  it('truncates very long lines', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'min.js'), 'z'.repeat(50_000));
    const result = await callTool(dir, 'read_file', { path: 'min.js' });
    expect(result.content).toMatch(/^1\tz{2000}… \[line truncated, 50000 characters\]$/);
  });

  it('says a file is empty', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'empty.txt'), '');
    expect((await callTool(dir, 'read_file', { path: 'empty.txt' })).content).toContain('is empty');
  });

  it('names a missing path', async () => {
    const dir = await tempDir();
    const result = await callTool(dir, 'read_file', { path: 'nope/missing.txt' });
    expect(result.isError).toBe(true);
    expect(result.content).toBe(`tool_failed: read_file: file not found: ${join(dir, 'nope/missing.txt')}`);
  });

  it('refuses directories, binary files and an offset past the end, naming them', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'bin.dat'), Buffer.from([0, 1, 2, 3]));
    await writeFile(join(dir, 'short.txt'), 'one\ntwo\n');
    const asDir = await callTool(dir, 'read_file', { path: 'sub' });
    expect(asDir.content).toMatch(/sub is a directory; use list_dir/);
    const binary = await callTool(dir, 'read_file', { path: 'bin.dat' });
    expect(binary.content).toMatch(/bin\.dat looks like a binary file/);
    const past = await callTool(dir, 'read_file', { path: 'short.txt', offset: 9 });
    expect(past).toMatchObject({ isError: true });
    expect(past.content).toContain('offset 9 is past the end');
    expect(past.content).toContain('has 2 lines');
  });

  it('names a bad offset in the schema error', async () => {
    const dir = await tempDir();
    const result = await callTool(dir, 'read_file', { path: 'a.txt', offset: 0 });
    expect(result.isError).toBe(true);
    expect(result.content).toMatch(/^invalid_arguments: read_file: offset: .*>=1 \(got 0\)$/);
  });
});
