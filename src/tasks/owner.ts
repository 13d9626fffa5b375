import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * Who runs a task: `host:pid:nonce` of the process holding its lease. A task whose owner is gone
 * (lease expired, or the pid no longer exists on this host) is `interrupted`.
 */
export function newOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** True when the owner can no longer be running the task. */
export function ownerIsGone(owner: string | undefined, leaseExpiresAt: number | undefined, now = Date.now()): boolean {
  if (!owner) return true;
  if (leaseExpiresAt !== undefined && leaseExpiresAt < now) return true;
  const [host, pidText] = owner.split(':');
  if (host !== hostname()) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
