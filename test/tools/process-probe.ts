import { existsSync, readFileSync } from 'node:fs';

/** Whether `pid` is a live process (a zombie awaiting its reaper counts as dead). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return true;
  let text: string;
  try {
    text = readFileSync(stat, 'utf8');
  } catch {
    // Reaped between the signal check and this read: gone.
    return false;
  }
  const state = text.replace(/^.*\) /s, '')[0];
  return state !== 'Z' && state !== 'X';
}

/** Poll until `pid` is dead or `withinMs` passes; true if it died. */
export async function waitForDeath(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !isAlive(pid);
}

/** Read a pid a command wrote to `file`, waiting for it to appear. */
export async function readPid(file: string, withinMs = 10_000): Promise<number> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (existsSync(file)) {
      const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0) return pid;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no pid written to ${file}`);
}
