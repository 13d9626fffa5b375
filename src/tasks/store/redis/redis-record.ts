import type { Message } from '../../../provider/types.js';
import type { SessionRecord, SteerRecord, TaskRecord } from '../../task-record.js';

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

export function sessionFromReply(reply: string[]): SessionRecord | undefined {
  return recordFromReply<SessionRecord>(reply);
}

/** Steers of an HGETALL reply of `steers:<id>`, in id order. */
export function steersFromReply(reply: string[]): SteerRecord[] {
  const steers: SteerRecord[] = [];
  for (let index = 1; index < reply.length; index += 2) steers.push(JSON.parse(reply[index]!) as SteerRecord);
  return steers.sort((a, b) => a.id - b.id);
}

/** The conversation of the LRANGE reply of `checkpoints:<id>`: its steps' messages in order. */
export function checkpointFromReply(reply: string[]): { iterations: number; messages: Message[] } {
  const steps = reply.map((step) => JSON.parse(step) as { iteration: number; messages: Message[] });
  return { iterations: steps.at(-1)?.iteration ?? 0, messages: steps.flatMap((step) => step.messages) };
}
