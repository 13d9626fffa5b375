import { PassThrough } from 'node:stream';
import { expect, test } from 'vitest';
import { WaitLine } from '../../src/cli/tui/wait-line.js';
import { taskFixture } from '../tasks/store-conformance.js';

/** `legate run`'s waiting line: redrawn in place on a TTY, plain lines otherwise. */
function capture(): { out: PassThrough; text(): string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { out, text: () => text };
}

test('on a TTY: one line redrawn in place with each task elapsed time; other lines clear it first; stop leaves nothing behind', async () => {
  const { out, text } = capture();
  let now = 10_000;
  const line = new WaitLine(out, true, () => now);
  const a = taskFixture({ id: 't_aaaa0001', status: 'running', startedAt: 4_000 });
  const b = taskFixture({ id: 't_bbbb0002', status: 'queued', createdAt: 9_000 });

  line.start([a, b]);
  now = 12_000;
  line.say('  ◂ task t_bbbb0002 completed');
  line.update({ ...b, status: 'completed' });
  line.stop();
  await new Promise((resolve) => setImmediate(resolve));

  const written = text();
  expect(written.startsWith('\r\x1b[2K  … waiting for 2 background tasks: t_aaaa0001 6s, t_bbbb0002 1s')).toBe(true);
  // The progress line is printed on a cleared line, then the waiting line comes back with the new times.
  expect(written).toContain('\r\x1b[2K  ◂ task t_bbbb0002 completed\n\r\x1b[2K  … waiting for 2 background tasks: t_aaaa0001 8s, t_bbbb0002 3s');
  expect(written).toContain('\r\x1b[2K  … waiting for 1 background task: t_aaaa0001 8s');
  expect(written.endsWith('\r\x1b[2K')).toBe(true);
});

test('without a TTY: a plain line when waiting starts and each time the set of tasks changes, no escape codes', async () => {
  const { out, text } = capture();
  const line = new WaitLine(out, false, () => 5_000);
  const a = taskFixture({ id: 't_aaaa0001', status: 'running', startedAt: 2_000 });
  const b = taskFixture({ id: 't_bbbb0002', status: 'running', startedAt: 3_000 });

  line.start([a, b]);
  line.update({ ...a, status: 'running' });
  line.update({ ...a, status: 'completed' });
  line.stop();
  await new Promise((resolve) => setImmediate(resolve));

  expect(text()).not.toContain('\x1b');
  expect(text().split('\n').filter(Boolean)).toEqual([
    '  … waiting for 2 background tasks: t_aaaa0001 3s, t_bbbb0002 2s (Ctrl-C stops waiting; --no-wait skips this)',
    '  … waiting for 1 background task: t_bbbb0002 2s (Ctrl-C stops waiting; --no-wait skips this)',
  ]);
});
