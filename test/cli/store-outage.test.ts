import { describe, expect, it } from 'vitest';
import { waitThroughOutages } from '../../src/cli/store-outage.js';
import { LegateError } from '../../src/errors.js';

const url = 'redis://:outage-secret@127.0.0.1:6390';
const unavailable = () => new LegateError('store_unavailable', 'cannot reach the Redis task store at redis://:***@127.0.0.1:6390/: connect ECONNREFUSED');

/** `run --dispatch-only`'s wait: a Redis outage is waited out, said once (URL masked), and its end is said. */
describe('waitThroughOutages', () => {
  it('a wait that fails with store_unavailable starts again instead of ending; the outage and its end are said', async () => {
    const lines: string[] = [];
    let waits = 0;
    let probes = 0;
    await waitThroughOutages(
      url,
      async () => {
        waits++;
        if (waits <= 2) throw unavailable();
      },
      async () => {
        probes++;
        if (probes === 1) throw unavailable();
      },
      (line) => lines.push(line),
      new AbortController().signal,
    );
    expect(waits).toBe(3);
    expect(lines[0]).toMatch(/^legate: waiting for the Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:6390\/? \(.*ECONNREFUSED\): the tasks go on on the workers/);
    expect(lines.filter((line) => line.startsWith('legate: waiting for the Redis'))).toHaveLength(1);
    expect(lines.join('\n')).not.toContain('outage-secret');
  }, 15_000);

  it('any other error ends the wait', async () => {
    const failed = waitThroughOutages(
      url,
      () => Promise.reject(new LegateError('store_reset', 'lost')),
      async () => {},
      () => {},
      new AbortController().signal,
    );
    await expect(failed).rejects.toMatchObject({ code: 'store_reset' });
  });
});
