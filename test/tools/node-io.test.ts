import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNodeIO } from '../../src/tools/node-io.js';
import { tempDir } from './tool-harness.js';

const io = createNodeIO();
const never = new AbortController().signal;

describe('createNodeIO', () => {
  it('reads, writes, lists and stats files', async () => {
    const dir = await tempDir();
    await io.mkdirp(join(dir, 'a/b'));
    await io.writeFile(join(dir, 'a/file.txt'), 'ünïcode');
    expect(await io.readFile(join(dir, 'a/file.txt'))).toBe('ünïcode');
    expect(await io.listDir(join(dir, 'a'))).toEqual(['b/', 'file.txt']);
    expect(await io.stat(join(dir, 'a/file.txt'))).toMatchObject({
      isFile: true,
      isDirectory: false,
      size: 9,
      links: 1,
      id: expect.stringMatching(/^\d+:\d+$/),
    });
    expect(await io.stat(join(dir, 'a/b'))).toMatchObject({ isFile: false, isDirectory: true });
    expect(await io.stat(join(dir, 'missing'))).toBeUndefined();
    expect(await io.stat(join(dir, 'a/file.txt/below'))).toBeUndefined();
  });

  it('runs commands with bash', async () => {
    const dir = await tempDir();
    const result = await io.exec('echo ${BASH_VERSION:+bash}; [[ 1 == 1 ]] && echo ok', { cwd: dir, timeoutMs: 10_000, signal: never });
    expect(result).toEqual({ exitCode: 0, output: 'bash\nok\n', timedOut: false });
  });

  it('keeps multi-byte characters intact across chunks', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'u.txt'), 'é'.repeat(100_000));
    const result = await io.exec('cat u.txt', { cwd: dir, timeoutMs: 10_000, signal: never });
    expect(result.output).toBe('é'.repeat(100_000));
  });

  it('resolves, never rejects, when the command cannot start', async () => {
    const dir = await tempDir();
    const result = await io.exec('true', { cwd: join(dir, 'absent'), timeoutMs: 10_000, signal: never });
    expect(result.exitCode).toBeNull();
    expect(result.output).toContain('failed to run command');
  });

  it('does not start a command when the signal is already aborted', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'x'));
    const controller = new AbortController();
    controller.abort();
    const result = await io.exec('touch ran', { cwd: dir, timeoutMs: 10_000, signal: controller.signal });
    expect(result.exitCode).toBeNull();
    expect(await io.stat(join(dir, 'ran'))).toBeUndefined();
  });

  it('bounds the output it keeps in memory', async () => {
    const dir = await tempDir();
    const result = await io.exec('head -c 5000000 /dev/zero | tr "\\0" y; echo END', { cwd: dir, timeoutMs: 30_000, signal: never });
    expect(result.output.length).toBeLessThan(1_100_000);
    expect(result.output).toMatch(/END\n$/);
    expect(result.output).toContain('characters omitted');
  });

  it('resolves real paths: symlinks in the existing prefix, a dangling symlink to its target, the missing rest as is', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'real/sub'), { recursive: true });
    await symlink(join(dir, 'real'), join(dir, 'link'));
    await symlink('../real/sub/new.txt', join(dir, 'real/dangling'));
    expect(await io.realPath!(join(dir, 'link/sub/missing/file.txt'))).toBe(join(dir, 'real/sub/missing/file.txt'));
    expect(await io.realPath!(join(dir, 'link/dangling'))).toBe(join(dir, 'real/sub/new.txt'));
  });
});
