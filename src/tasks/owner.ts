import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Who runs a task: `host:pid:nonce:machine` of the process holding its lease, where `machine` tells
 * apart kernels and pid namespaces (a hash of the boot id and the pid namespace: two containers with
 * one hostname differ in it). A task whose owner is gone (lease expired, or — on this very machine
 * and pid namespace — its pid no longer exists) is `interrupted`.
 */
export function newOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}:${machineKey() ?? 'lease-only'}`;
}

/** True when the owner can no longer be running the task. */
export function ownerIsGone(owner: string | undefined, leaseExpiresAt: number | undefined, now = Date.now(), here = machineKey()): boolean {
  if (!owner) return true;
  if (leaseExpiresAt !== undefined && leaseExpiresAt < now) return true;
  // Only an owner on this machine and pid namespace (same host, same key) can be checked by pid;
  // any other (another machine, a container, an older id without a key) waits for its lease.
  const [host, pidText, , key] = owner.split(':');
  if (here === undefined || host !== hostname() || key !== here) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

let cachedKey: string | null | undefined;

/**
 * This machine and pid namespace: a hash of `/proc/sys/kernel/random/boot_id` and
 * `/proc/self/ns/pid`. Undefined where they cannot be read (not Linux): then owners are judged by
 * their lease alone.
 */
export function machineKey(): string | undefined {
  if (cachedKey === undefined) {
    try {
      const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      const namespace = readlinkSync('/proc/self/ns/pid');
      cachedKey = createHash('sha256').update(`${boot}\n${namespace}`).digest('hex').slice(0, 12);
    } catch {
      // no boot id (not Linux): owners are compared without one
      cachedKey = null;
    }
  }
  return cachedKey ?? undefined;
}
