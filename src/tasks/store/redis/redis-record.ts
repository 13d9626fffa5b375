import { LegateError } from '../../../errors.js';
import type { SessionRecord, SteerRecord, TaskRecord } from '../../task-record.js';
import { checkpointOfSteps, type LoadedStep, parseStoredCompaction } from '../checkpoint-log.js';
import { parseStoredMessages } from '../stored-shapes.js';
import type { Checkpoint } from '../task-store.js';

/**
 * Records in Redis hashes: one hash field per record field, its value JSON (`"running"`, `12`,
 * `{"inputTokens":3,…}`). Scripts compare and copy these values without re-encoding them, so no
 * number or string goes through Lua's JSON encoder on the way to a record.
 */

/** HSET arguments for every defined field of `record`. */
export function recordToFields(record: object): string[] {
  const fields: string[] = [];
  for (const [field, value] of Object.entries(record)) {
    if (value !== undefined) fields.push(field, JSON.stringify(value));
  }
  return fields;
}

/** A patch as the write script takes it: fields to set (JSON values) and fields to clear. */
export function patchToChange(patch: object, allowed: ReadonlySet<string>): { set: Record<string, string>; unset: string[] } {
  const set: Record<string, string> = {};
  const unset: string[] = [];
  for (const [field, value] of Object.entries(patch)) {
    if (!allowed.has(field)) continue;
    // A field present with the value `undefined` is cleared, as the memory store's spread does.
    if (value === undefined) unset.push(field);
    else set[field] = JSON.stringify(value);
  }
  return { set, unset };
}

/** The record of an HGETALL reply (a flat field/value list); undefined when it is empty. */
export function recordFromReply<T>(reply: string[]): T | undefined {
  if (reply.length === 0) return undefined;
  const record: Record<string, unknown> = {};
  for (let index = 0; index < reply.length; index += 2) record[reply[index]!] = JSON.parse(reply[index + 1]!);
  return record as T;
}

export function taskFromReply(reply: string[]): TaskRecord | undefined {
  return recordFromReply<TaskRecord>(reply);
}

/**
 * The session of an HGETALL reply of `session:<id>`; its conversation (stored with its `format`)
 * validated, `store_corrupt` naming the session otherwise.
 */
export function sessionFromReply(reply: string[]): SessionRecord | undefined {
  if (reply.length === 0) return undefined;
  const fields = new Map<string, string>();
  for (let index = 0; index < reply.length; index += 2) fields.set(reply[index]!, reply[index + 1]!);
  const id = JSON.parse(fields.get('id') ?? '""') as string;
  const where = `session "${id}"`;
  const session: Record<string, unknown> = {};
  for (const field of ['id', 'cwd', 'createdAt', 'updatedAt']) session[field] = JSON.parse(fields.get(field) ?? 'null');
  session.messages = parseStoredMessages(fields.get('messages') ?? '', Number(fields.get('format')), where);
  const compaction = fields.get('compaction');
  if (compaction !== undefined) session.compaction = parseStoredCompaction(compaction, where);
  return session as unknown as SessionRecord;
}

/** Steers of an HGETALL reply of `steers:<id>`, in id order. */
export function steersFromReply(reply: string[]): SteerRecord[] {
  const steers: SteerRecord[] = [];
  for (let index = 1; index < reply.length; index += 2) steers.push(JSON.parse(reply[index]!) as SteerRecord);
  return steers.sort((a, b) => a.id - b.id);
}

/**
 * The conversation of the HGETALL reply of `checkpoints:<id>` (step number → `{format, iteration,
 * messages, compaction?}`): its steps in step order, each validated; `store_corrupt` naming the task
 * and step otherwise.
 */
export function checkpointFromReply(id: string, reply: string[]): Checkpoint {
  const steps: LoadedStep[] = [];
  for (let index = 0; index < reply.length; index += 2) {
    const step = Number(reply[index]);
    const where = `task "${id}" checkpoint step ${step}`;
    let stored: { format?: unknown; iteration?: unknown; messages?: unknown; compaction?: unknown };
    try {
      stored = JSON.parse(reply[index + 1]!) as typeof stored;
    } catch (error) {
      throw new LegateError('store_corrupt', `${where} is not valid JSON: ${(error as Error).message}`, { where });
    }
    if (typeof stored !== 'object' || stored === null || typeof stored.iteration !== 'number') {
      throw new LegateError('store_corrupt', `${where} has no iteration number`, { where });
    }
    steps.push({
      step,
      iteration: stored.iteration,
      messages: parseStoredMessages(stored.messages, Number(stored.format), where),
      compaction: stored.compaction === undefined ? undefined : parseStoredCompaction(stored.compaction, where),
    });
  }
  return checkpointOfSteps(steps);
}
