import { LegateError } from '../errors.js';
import type { Budget } from './budget.js';

/** The raise flags of `legate tasks approve` and `/approve`, as written (`--tokens 5000 --usd 0.5 --seconds 60`). */
export interface RaiseFlags {
  tokens?: string | undefined;
  usd?: string | undefined;
  seconds?: string | undefined;
}

/**
 * The raise the flags give, undefined when none is set (the budget is then raised by its own
 * amount). A bad value is `invalid_arguments` naming the flag and the value.
 */
export function raiseFromFlags(flags: RaiseFlags): Budget | undefined {
  const raise: Budget = {};
  if (flags.tokens !== undefined) raise.tokens = amount('--tokens', flags.tokens, true);
  if (flags.usd !== undefined) raise.costUsd = amount('--usd', flags.usd, false);
  if (flags.seconds !== undefined) raise.seconds = amount('--seconds', flags.seconds, false);
  return Object.keys(raise).length > 0 ? raise : undefined;
}

/** `--tokens 500 --usd 1` within a chat command's words: the flags, and the words that are not flags. */
export function splitRaiseFlags(words: readonly string[]): { flags: RaiseFlags; rest: string[] } {
  const flags: RaiseFlags = {};
  const rest: string[] = [];
  for (let index = 0; index < words.length; index++) {
    const word = words[index]!;
    const name = word.replace(/^--/, '');
    if (word.startsWith('--') && (name === 'tokens' || name === 'usd' || name === 'seconds')) {
      const value = words[++index];
      if (value === undefined) throw new LegateError('invalid_arguments', `${word} needs a value`);
      flags[name] = value;
    } else {
      rest.push(word);
    }
  }
  return { flags, rest };
}

function amount(flag: string, value: string, whole: boolean): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number <= 0 || (whole && !Number.isInteger(number))) {
    throw new LegateError('invalid_arguments', `${flag} must be a positive ${whole ? 'whole ' : ''}number (got ${JSON.stringify(value)})`, { flag });
  }
  return number;
}
