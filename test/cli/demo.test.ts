import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runMain } from '../helpers/main.js';
import { home } from './cli-harness.js';

/** `legate demo` runs the async lifecycle offline, with no key and no config. */
test('demo --fast with an empty environment: offline, exit 0, the whole lifecycle on screen', async () => {
  // runMain passes only PATH, HOME and LEGATE_HOME: no key, no config file, no base URL.
  const { home: legateHome, work } = home();
  writeFileSync(join(work, 'main.js'), '// TODO: handle errors\nconsole.log("hi");\n');
  writeFileSync(join(work, 'README.md'), '# sample\nFIXME: write docs\n');

  const result = await runMain(['demo', '--fast'], { home: legateHome, cwd: work });

  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const out = result.stdout;
  expect(out).toMatch(/offline/i);
  expect(out).toContain('built-in');
  expect(out).toContain('no API key');

  // spawn → check → steer → cancel → collect, in that order.
  const at = (needle: string): number => {
    const index = out.indexOf(needle);
    expect(index, `demo output should contain ${JSON.stringify(needle)}`).toBeGreaterThanOrEqual(0);
    return index;
  };
  const order = ['⚙ delegate_task_async', '⚙ check_task', '⚙ steer_task', '⚙ cancel_task', '⚙ collect_task'].map(at);
  expect([...order].sort((a, b) => a - b)).toEqual(order);
  expect(out.match(/▸ task t_\w+ spawned/g)).toHaveLength(3);
  expect(out).toMatch(/◂ task t_\w+ cancelled/);
  expect(out.match(/◂ task t_\w+ completed/g)?.length).toBeGreaterThanOrEqual(2);
  expect(out).toContain('"delivery":"queued"');
  // The final summary comes last.
  expect(out.lastIndexOf('parent› Done.')).toBeGreaterThan(order.at(-1)!);

  // Read-only: the user's files are untouched.
  expect(readdirSync(work).sort()).toEqual(['README.md', 'main.js']);
  expect(readFileSync(join(work, 'main.js'), 'utf8')).toBe('// TODO: handle errors\nconsole.log("hi");\n');
});

test('demo tells the status it actually read: after check_task it says what check_task returned', async () => {
  const { home: legateHome, work } = home();
  writeFileSync(join(work, 'main.js'), '// TODO: one\n');

  const result = await runMain(['demo', '--fast'], { home: legateHome, cwd: work });

  expect(result.code, result.stderr).toBe(0);
  const lines = result.stdout.split('\n');
  const check = lines.findIndex((line) => line.includes('⚙ check_task'));
  const read = /"task_id":"(t_\w+)","status":"(\w+)"/.exec(lines[check + 1]!);
  expect(read, lines[check + 1]).not.toBeNull();
  const said = lines.slice(check + 2).find((line) => line.startsWith('parent›'));
  expect(said).toContain(`check_task says ${read![1]} is ${read![2]}.`);
  // Before it looked, it only repeats what the spawn results said.
  const before = lines
    .slice(0, check)
    .filter((line) => line.startsWith('parent›'))
    .join('\n');
  expect(before).not.toMatch(/All three are running/);
});

test('demo in an empty directory: surveys a sample project instead, says so, and leaves both directories clean', async () => {
  const { home: legateHome, work } = home();

  const result = await runMain(['demo', '--fast'], { home: legateHome, cwd: work });

  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const sample = new RegExp(`${work} is empty, so the subagents survey a small sample project in (\\S+) instead`).exec(result.stdout);
  expect(sample, result.stdout).not.toBeNull();
  // The survey found something to report in the sample.
  expect(result.stdout).toMatch(/Found \d+ TODO\/FIXME notes in \d+ files/);
  expect(result.stdout).toContain('It looks like a Node.js project');
  expect(readdirSync(work)).toEqual([]);
  expect(existsSync(sample![1]!)).toBe(false);
});
