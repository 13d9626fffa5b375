import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { callTool, tempDir } from './tool-harness.js';

describe('write_file', () => {
  it('creates parent directories and says how many bytes it wrote', async () => {
    const dir = await tempDir();
    const result = await callTool(dir, 'write_file', { path: 'deep/er/note.md', content: 'héllo\n' });
    const file = join(dir, 'deep/er/note.md');
    expect(result).toEqual({ content: `created ${file} (7 bytes written)`, isError: false });
    expect(await readFile(file, 'utf8')).toBe('héllo\n');
  });

  it('overwrites an existing file', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'a.txt'), 'old content');
    const result = await callTool(dir, 'write_file', { path: 'a.txt', content: '' });
    expect(result.content).toBe(`overwrote ${join(dir, 'a.txt')} (0 bytes written)`);
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('');
  });

  it('refuses to write over a directory, naming it', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'sub'));
    const result = await callTool(dir, 'write_file', { path: 'sub', content: 'x' });
    expect(result).toEqual({ content: `tool_failed: write_file: ${join(dir, 'sub')} is a directory, not a file`, isError: true });
  });

  it('names a missing content field', async () => {
    const dir = await tempDir();
    const result = await callTool(dir, 'write_file', { path: 'a.txt' });
    expect(result.isError).toBe(true);
    expect(result.content).toBe('invalid_arguments: write_file: content: expected string, received undefined (missing)');
  });
});
