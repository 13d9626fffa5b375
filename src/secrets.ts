/**
 * Keeping API keys out of logs, errors and transcripts. Every message that could mention a key
 * goes through `redactSecrets` before it leaves the provider layer.
 */

/** `sk-...a1b2`: the first 3 and last 4 characters. Keys of 8 characters or fewer become `***`. */
export function maskKey(key: string): string {
  if (key.length <= 8) return '***';
  return `${key.slice(0, 3)}...${key.slice(-4)}`;
}

/**
 * The configured key values worth masking: each once, and only those longer than 8 characters.
 * Shorter ones are placeholders (`api_key: none` for Ollama, `x`, `local`): masking them would
 * mask every occurrence of the word in what is shown.
 */
export function secretValues(keys: Iterable<string>): string[] {
  return [...new Set(keys)].filter((key) => key.length > 8);
}

/** Replaces every occurrence of each key in `text` with its mask. Empty keys are ignored. */
export function redactSecrets(text: string, keys: Iterable<string>): string {
  // Longest first, so a key that contains another key is masked whole.
  const sorted = [...keys].filter((key) => key.length > 0).sort((a, b) => b.length - a.length);
  let result = text;
  for (const key of sorted) result = result.split(key).join(maskKey(key));
  return result;
}
