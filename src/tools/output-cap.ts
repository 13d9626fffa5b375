/** Default cap on what one tool call may put into the model's context. */
export const DEFAULT_MAX_OUTPUT_CHARS = 20_000;

/**
 * Cap `text` at about `maxChars` characters, keeping the head and the tail (where errors and
 * summaries usually are) around a `[... N characters omitted ...]` marker. Text within the cap is
 * returned unchanged.
 */
export function capOutput(text: string, maxChars: number = DEFAULT_MAX_OUTPUT_CHARS): string {
  if (text.length <= maxChars) return text;
  const keep = Math.max(0, maxChars);
  let headEnd = Math.ceil(keep / 2);
  let tailStart = text.length - (keep - headEnd);
  // Never cut a surrogate pair in half.
  if (headEnd > 0 && isHighSurrogate(text.charCodeAt(headEnd - 1))) headEnd -= 1;
  if (tailStart < text.length && isLowSurrogate(text.charCodeAt(tailStart))) tailStart += 1;
  const omitted = tailStart - headEnd;
  return `${text.slice(0, headEnd)}\n[... ${omitted} characters omitted ...]\n${text.slice(tailStart)}`;
}

/** At most `maxChars` characters of `text` on one line, for quoting a bad value in a message. */
export function excerpt(text: string, maxChars = 120): string {
  const oneLine = text.replace(/\s+/g, ' ');
  if (oneLine.length <= maxChars) return oneLine;
  let end = maxChars;
  if (isHighSurrogate(oneLine.charCodeAt(end - 1))) end -= 1;
  return `${oneLine.slice(0, end)}… (${oneLine.length} characters)`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
