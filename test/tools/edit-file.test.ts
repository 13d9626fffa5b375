import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { callTool, tempDir } from './tool-harness.js';

async function fileWith(content: string): Promise<{ dir: string; file: string }> {
  const dir = await tempDir();
  const file = join(dir, 'code.ts');
  await writeFile(file, content);
  return { dir, file };
}

describe('edit_file', () => {
  it('replaces one exact occurrence and says where', async () => {
    const { dir, file } = await fileWith('const a = 1;\nconst b = 2;\n');
    const result = await callTool(dir, 'edit_file', { path: 'code.ts', old_string: 'const b = 2;', new_string: 'const b = 3;' });
    expect(result).toEqual({ content: `edited ${file}: replaced 1 occurrence (first at line 2)`, isError: false });
    expect(await readFile(file, 'utf8')).toBe('const a = 1;\nconst b = 3;\n');
  });

  it('inserts replacement text literally, even with $ patterns', async () => {
    const { dir, file } = await fileWith('price\n');
    await callTool(dir, 'edit_file', { path: 'code.ts', old_string: 'price', new_string: "$& $1 $$ $'" });
    expect(await readFile(file, 'utf8')).toBe("$& $1 $$ $'\n");
  });

  it('replaces every occurrence with replace_all', async () => {
    const { dir, file } = await fileWith('x x x\n');
    const result = await callTool(dir, 'edit_file', { path: 'code.ts', old_string: 'x', new_string: 'y', replace_all: true });
    expect(result.content).toContain('replaced 3 occurrences');
    expect(await readFile(file, 'utf8')).toBe('y y y\n');
  });

  it('names the path and old_string when it is not found', async () => {
    const { dir, file } = await fileWith('hello\n');
    const result = await callTool(dir, 'edit_file', { path: 'code.ts', old_string: 'goodbye world', new_string: 'x' });
    expect(result).toEqual({ content: `tool_failed: edit_file: old_string not found in ${file}: "goodbye world"`, isError: true });
    expect(await readFile(file, 'utf8')).toBe('hello\n');
  });

  it('hints at line-number prefixes copied from read_file', async () => {
    const { dir } = await fileWith('hello\n');
    const result = await callTool(dir, 'edit_file', { path: 'code.ts', old_string: '1\thello', new_string: 'x' });
    expect(result.content).toContain('line-number prefixes');
  });

  it('hints at CRLF line endings', async () => {
    const { dir } = await fileWith('one\r\ntwo\r\n');
    const result = await callTool(dir, 'edit_file', { path: 'code.ts', old_string: 'one\ntwo', new_string: 'x' });
    expect(result.content).toContain('CRLF line endings');
  });

  it('refuses an ambiguous old_string without replace_all, naming the count', async () => {
    const { dir, file } = await fileWith('dup\ndup\n');
    const result = await callTool(dir, 'edit_file', { path: 'code.ts', old_string: 'dup', new_string: 'one' });
    expect(result.isError).toBe(true);
    expect(result.content).toContain(`old_string occurs 2 times in ${file}`);
    expect(result.content).toContain('"dup"');
    expect(await readFile(file, 'utf8')).toBe('dup\ndup\n');
  });

  it('caps a long old_string in the message', async () => {
    const { dir } = await fileWith('short\n');
    const result = await callTool(dir, 'edit_file', { path: 'code.ts', old_string: 'q'.repeat(10_000), new_string: '' });
    expect(result.content.length).toBeLessThan(500);
    expect(result.content).toContain('(10000 characters)');
  });

  it('names a missing file', async () => {
    const dir = await tempDir();
    const result = await callTool(dir, 'edit_file', { path: 'gone.ts', old_string: 'a', new_string: 'b' });
    expect(result.content).toBe(`tool_failed: edit_file: file not found: ${join(dir, 'gone.ts')}`);
  });
});
