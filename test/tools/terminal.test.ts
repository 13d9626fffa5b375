import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPid, waitForDeath } from './process-probe.js';
import { callTool, tempDir } from './tool-harness.js';

describe('terminal', () => {
  it('returns the exit code and combined stdout and stderr', async () => {
    const dir = await tempDir();
    const result = await callTool(dir, 'terminal', { command: 'echo out; echo err >&2; exit 3' });
    expect(result.isError).toBe(false);
    expect(result.content.split('\n')[0]).toBe('exit code: 3');
    expect(result.content).toContain('out');
    expect(result.content).toContain('err');
  });

  it('runs in cwd, or in the cwd argument resolved against it', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'sub'));
    expect((await callTool(dir, 'terminal', { command: 'pwd' })).content).toBe(`exit code: 0\n${dir}\n`);
    expect((await callTool(dir, 'terminal', { command: 'pwd', cwd: 'sub' })).content).toBe(`exit code: 0\n${join(dir, 'sub')}\n`);
  });

  it('says when there was no output', async () => {
    const dir = await tempDir();
    expect((await callTool(dir, 'terminal', { command: 'true' })).content).toBe('exit code: 0\n(no output)');
  });

  it('names a missing working directory', async () => {
    const dir = await tempDir();
    const result = await callTool(dir, 'terminal', { command: 'ls', cwd: 'missing' });
    expect(result).toEqual({ content: `tool_failed: terminal: working directory not found: ${join(dir, 'missing')}`, isError: true });
  });

  it('kills a command that outlives its timeout and flags it', async () => {
    const dir = await tempDir();
    const started = Date.now();
    const result = await callTool(dir, 'terminal', { command: 'echo before; sleep 30 & echo $! > sleep.pid; wait', timeout_seconds: 1 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.isError).toBe(true);
    expect(result.content).toMatch(/^timed out after 1s; the command was killed\n/);
    expect(result.content).toContain('before');
    expect(await waitForDeath(await readPid(join(dir, 'sleep.pid')), 5_000)).toBe(true);
  });

  it('kills a command that ignores SIGTERM', async () => {
    const dir = await tempDir();
    const started = Date.now();
    const result = await callTool(dir, 'terminal', { command: "trap '' TERM; sleep 30", timeout_seconds: 1 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.content).toContain('timed out');
  });

  it('stops promptly and kills the process when the run is aborted', async () => {
    const dir = await tempDir();
    const controller = new AbortController();
    const pending = callTool(dir, 'terminal', { command: 'sleep 30 & echo $! > sleep.pid; wait' }, controller.signal);
    const pid = await readPid(join(dir, 'sleep.pid'));
    const abortedAt = Date.now();
    controller.abort();
    const result = await pending;
    expect(Date.now() - abortedAt).toBeLessThan(5_000);
    expect(result).toEqual({ content: 'aborted: the terminal call was cancelled', isError: true });
    expect(await waitForDeath(pid, 5_000)).toBe(true);
  });

  it('does not wait for a background process that keeps the output open', async () => {
    const dir = await tempDir();
    const started = Date.now();
    const result = await callTool(dir, 'terminal', { command: 'sleep 30 & echo $! > bg.pid; echo started' });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.content).toBe('exit code: 0\nstarted\n');
    process.kill(await readPid(join(dir, 'bg.pid')), 'SIGKILL');
  });

  it('caps long output, keeping its beginning and end', async () => {
    const dir = await tempDir();
    const result = await callTool(dir, 'terminal', { command: 'echo FIRST; head -c 300000 /dev/zero | tr "\\0" x; echo; echo LAST' });
    expect(result.content.length).toBeLessThan(21_000);
    expect(result.content).toMatch(/^exit code: 0\nFIRST\n/);
    expect(result.content).toMatch(/LAST\n$/);
    expect(result.content).toMatch(/\[\.\.\. \d+ characters omitted \.\.\.\]/);
  });

  it('names a bad timeout', async () => {
    const dir = await tempDir();
    const result = await callTool(dir, 'terminal', { command: 'true', timeout_seconds: -5 });
    expect(result.content).toMatch(/^invalid_arguments: terminal: timeout_seconds: .*\(got -5\)$/);
  });
});
