import { z } from 'zod';
import { LegateError } from '../../errors.js';
import type { Message } from '../../provider/types.js';
import type { Checkpoint, LoggedCompaction, StoredCompaction } from './task-store.js';

/**
 * The checkpoint log as every backend reads it back: steps in step order, each a batch of messages
 * or a compaction record. The conversation is the messages concatenated (the full transcript); the
 * compactions say where the context was cut (docs/compaction.md).
 */
export interface LoadedStep {
  step: number;
  iteration: number;
  messages: Message[];
  compaction?: StoredCompaction | undefined;
}

/** `steps` (any order) as a `Checkpoint`. */
export function checkpointOfSteps(steps: readonly LoadedStep[]): Checkpoint {
  const ordered = [...steps].sort((a, b) => a.step - b.step);
  const messages: Message[] = [];
  const compactions: LoggedCompaction[] = [];
  for (const step of ordered) {
    if (step.compaction) compactions.push({ ...step.compaction, step: step.step, at: messages.length });
    messages.push(...step.messages);
  }
  return {
    iterations: ordered.at(-1)?.iteration ?? 0,
    steps: ordered.length,
    messages,
    ...(compactions.length > 0 ? { compactions } : {}),
  };
}

const compactionSchema = z.object({
  firstKept: z.number().int().min(1),
  handoff: z.string(),
  tokensBefore: z.number().int().min(0).optional(),
  tokensAfter: z.number().int().min(0).optional(),
});

/** A stored compaction record (JSON text or a parsed value), or `store_corrupt` naming `where`. */
export function parseStoredCompaction(json: unknown, where: string): StoredCompaction {
  let value: unknown;
  try {
    value = typeof json === 'string' ? JSON.parse(json) : json;
  } catch (error) {
    throw new LegateError('store_corrupt', `${where} has a compaction record that is not valid JSON: ${(error as Error).message}`, { where });
  }
  const parsed = compactionSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new LegateError('store_corrupt', `${where} has an invalid compaction record: ${issue.path.join('.') || '(root)'}: ${issue.message}`, { where });
  }
  const { firstKept, handoff, tokensBefore, tokensAfter } = parsed.data;
  return { firstKept, handoff, ...(tokensBefore !== undefined ? { tokensBefore } : {}), ...(tokensAfter !== undefined ? { tokensAfter } : {}) };
}
