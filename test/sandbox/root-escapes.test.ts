import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bubblewrapAvailable, fixture, SECRET } from './fixture.js';

/**
 * Issue 23: the sandbox holds when legate runs as root (most containers and CI jobs do; CI runs
 * these as root). A sandboxed command holds no capability and is not uid 0; each escape a root
 * process could try fails, and nothing is written outside the roots. The same checks hold for an
 * unprivileged user. Skipped (one line) where bubblewrap cannot run, failing under CI=true.
 */
const f = fixture();
const available = bubblewrapAvailable();
const run = async (command: string) => (await f.call('workspace-write', 'terminal', { command })).content;
const hostPanic = (): string => readFileSync('/proc/sys/kernel/panic', 'utf8');

describe.skipIf(!available)(`a sandboxed command, legate running as uid ${process.getuid?.()}`, () => {
  it('holds no capability, in any set, and is not uid 0', async () => {
    const out = await run('grep ^Cap /proc/self/status; id -u');
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) expect(out).toMatch(new RegExp(`${set}:\\s+0000000000000000`));
    const uid = out.trim().split('\n').at(-1);
    expect(uid).not.toBe('0');
  });

  it('umount of the LEGATE_HOME mask fails, and config.yaml stays hidden', async () => {
    const out = await run(`umount ${f.home}; echo "umount exit $?"; cat ${f.configFile}; ls -A ${f.home}`);
    expect(out).toMatch(/umount exit [1-9]/);
    expect(out).not.toContain(SECRET);
    expect(out).toContain('No such file or directory');
  });

  it('mount -o remount,rw / fails, and the write after it does not reach the host', async () => {
    const target = join(f.outside, 'after-remount.txt');
    const out = await run(`mount -o remount,rw /; echo "mount exit $?"; touch ${target}; echo "touch exit $?"`);
    expect(out).toMatch(/mount exit [1-9]/);
    expect(out).toMatch(/touch exit [1-9]/);
    expect(existsSync(target)).toBe(false);
  });

  it('unshare cannot make a new user or mount namespace to regain capabilities', async () => {
    const target = join(f.outside, 'after-unshare.txt');
    const out = await run(
      `unshare -r true; echo "unshare -r exit $?"; unshare -m true; echo "unshare -m exit $?"; unshare -rm sh -c 'umount ${f.home}; touch ${target}'; echo "unshare -rm exit $?"`,
    );
    expect(out).toMatch(/unshare -r exit [1-9]/);
    expect(out).toMatch(/unshare -m exit [1-9]/);
    expect(out).toMatch(/unshare -rm exit [1-9]/);
    expect(existsSync(target)).toBe(false);
  });

  it("nsenter into the host's namespaces fails", async () => {
    const target = join(f.outside, 'after-nsenter.txt');
    const out = await run(`nsenter -t 1 -m -u -n -p touch ${target}; echo "nsenter exit $?"`);
    expect(out).toMatch(/nsenter exit [1-9]/);
    expect(existsSync(target)).toBe(false);
  });

  it('a write to /proc/sys fails and the kernel setting is unchanged', async () => {
    const before = hostPanic();
    const changed = String((Number(before.trim()) || 0) + 7);
    const out = await run(`echo ${changed} > /proc/sys/kernel/panic; echo "write exit $?"; echo 1 > /proc/sys/vm/drop_caches; echo "drop exit $?"`);
    expect(out).toMatch(/write exit [1-9]/);
    expect(out).toMatch(/drop exit [1-9]/);
    expect(hostPanic()).toBe(before);
  });

  it('still writes in the workspace (the confinement keeps the roots usable)', async () => {
    const out = await run('echo made > made.txt && cat made.txt');
    expect(out).toContain('made');
    expect(readFileSync(join(f.ws, 'made.txt'), 'utf8')).toBe('made\n');
  });
});
