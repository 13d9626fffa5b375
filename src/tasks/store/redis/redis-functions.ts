/**
 * The store's scripts as one Redis Functions library (Redis ≥ 7), loaded once per connection
 * (`FUNCTION LOAD` at open) and then called by name with FCALL: a call sends its name and
 * arguments, not the script text (the write script alone is over 4 KB; as EVAL it cost a sixth
 * of a busy worker's CPU).
 *
 * Why this keeps call order (see "Order" in `redis-commands.ts`): the library is loaded before the
 * store's first call, on the store's own connection, and Redis keeps functions like data: in RDB
 * and AOF, and on replicas. A restart with persistence brings them back with the tasks. They are
 * missing only when Redis lost its data (a restart without persistence) or someone ran
 * `FUNCTION FLUSH` / `FUNCTION DELETE`. Then a call fails with "Function not found", and the store
 * never retries it: a retry would run after calls sent later that had already run (once another
 * process has loaded the library again), and the replay guard would then drop it as old, losing
 * the write in silence. Instead the call rejects with `store_unavailable` saying it was not
 * applied, and the store sends `FUNCTION LOAD` at once on the same connection, so calls made
 * after that reply find the library. (Calls already in flight fail the same way; none runs out of
 * order.)
 *
 * The library is named after a hash of its code (`legate_<hash>`): processes of different legate
 * versions sharing one Redis each find their own functions, and loading an existing library is a
 * no-op. A Redis that refuses `FUNCTION LOAD` (an ACL without it) gets the scripts as EVAL.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LegateError } from '../../../errors.js';
import { maskRedisUrl } from './redis-connection.js';
import * as scripts from './scripts/index.js';

const bodies: Record<string, string> = {
  create: scripts.createScript,
  write: scripts.writeScript,
  read: scripts.readScript,
  query: scripts.queryScript,
  heartbeat: scripts.heartbeatScript,
  prune: scripts.pruneScript,
  add_steer: scripts.addSteerScript,
  settle_steers: scripts.settleSteersScript,
  save_session: scripts.saveSessionScript,
  list_sessions: scripts.listSessionsScript,
  answer_approval: scripts.answerApprovalScript,
  charge_spend: scripts.chargeSpendScript,
  raise_budget: scripts.raiseBudgetScript,
};

/** The library's name: `legate_` and the first 12 hex digits of the SHA-1 of its scripts. */
export const functionLibrary = `legate_${createHash('sha1').update(JSON.stringify(bodies)).digest('hex').slice(0, 12)}`;

/** Script text → its function's name (`<library>_<script>`). */
const names = new Map(Object.entries(bodies).map(([name, body]) => [body, `${functionLibrary}_${name}`]));

/** The library's source, for `FUNCTION LOAD`. */
export const libraryCode = `#!lua name=${functionLibrary}\n${Object.entries(bodies)
  .map(([name, body]) => `redis.register_function('${functionLibrary}_${name}', function(KEYS, ARGV)\n${body}\nend)`)
  .join('\n')}\n`;

/** The function that runs `script`, or undefined for a script not in the library. */
export function functionName(script: string): string | undefined {
  return names.get(script);
}

/**
 * Sends `FUNCTION LOAD` now (in call order). Resolves true when the library is there (loaded now
 * or before), false when this Redis or its ACL refuses functions (the store then uses EVAL).
 */
export async function loadFunctions(redis: Redis): Promise<boolean> {
  try {
    await redis.call('FUNCTION', 'LOAD', libraryCode);
    return true;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/already exists/i.test(message)) return true;
    if (error instanceof Error && error.name === 'ReplyError' && /NOPERM|unknown command/i.test(message)) return false;
    throw error;
  }
}

/** Whether `error` is Redis' answer to FCALL of a function it does not have. */
export function isFunctionMissing(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError' && /function not found/i.test(error.message);
}

/** The error a call gets when Redis had lost the library: it was not applied. */
export function functionsLost(url: string): LegateError {
  return new LegateError(
    'store_unavailable',
    `the Redis at ${maskRedisUrl(url)} had lost legate's functions (${functionLibrary}; restarted without persistence, or FUNCTION FLUSH): ` +
      'this call was not applied; they are loaded again for the calls after it',
    { url: maskRedisUrl(url), library: functionLibrary },
  );
}
