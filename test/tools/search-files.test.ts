import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { callTool, tempDir } from './tool-harness.js';

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
});
