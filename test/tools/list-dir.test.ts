import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { callTool, tempDir } from './tool-harness.js';

describe('list_dir', () => {
  it('lists entries sorted, directories with a slash, defaulting to cwd', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'src'));
    await writeFile(join(dir, 'b.txt'), '');
    await writeFile(join(dir, 'a.txt'), '');
    const result = await callTool(dir, 'list_dir', {});
    expect(result).toEqual({ content: `${dir} (3 entries)\na.txt\nb.txt\nsrc/`, isError: false });
    expect((await callTool(dir, 'list_dir', '')).content).toBe(result.content);
  });

  it('says a directory is empty', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'empty'));
    expect((await callTool(dir, 'list_dir', { path: 'empty' })).content).toBe(`${join(dir, 'empty')} is empty`);
  });

  it('names a missing directory and a file given as a directory', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'f.txt'), '');
    const missing = await callTool(dir, 'list_dir', { path: 'nowhere' });
    expect(missing).toEqual({ content: `tool_failed: list_dir: directory not found: ${join(dir, 'nowhere')}`, isError: true });
    const file = await callTool(dir, 'list_dir', { path: 'f.txt' });
    expect(file.content).toContain(`${join(dir, 'f.txt')} is not a directory`);
  });
});
