/** Measuring and cutting text for the terminal: ANSI styles take no room, wide characters take two columns. */

const ansi = /\x1b\[[0-9;?]*[A-Za-z]/y;

/** The pieces of `text`: ANSI sequences (width 0) and single characters (code points). */
function* pieces(text: string): Generator<{ text: string; width: number }> {
  let index = 0;
  while (index < text.length) {
    ansi.lastIndex = index;
    const match = ansi.exec(text);
    if (match) {
      yield { text: match[0], width: 0 };
      index += match[0].length;
      continue;
    }
    const codePoint = text.codePointAt(index)!;
    const char = String.fromCodePoint(codePoint);
    yield { text: char, width: charWidth(codePoint) };
    index += char.length;
  }
}

/** Columns a code point takes: 0 for controls and combining marks, 2 for wide (CJK, emoji), else 1. */
export function charWidth(codePoint: number): number {
  if (codePoint < 0x20 || (codePoint >= 0x7f && codePoint < 0xa0)) return 0;
  if ((codePoint >= 0x300 && codePoint <= 0x36f) || (codePoint >= 0x200b && codePoint <= 0x200f) || (codePoint >= 0xfe00 && codePoint <= 0xfe0f)) return 0;
  const wide =
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1f64f) ||
    (codePoint >= 0x1f900 && codePoint <= 0x1f9ff) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd);
  return wide ? 2 : 1;
}

export function stripAnsi(text: string): string {
  let plain = '';
  for (const piece of pieces(text)) if (piece.width > 0 || !piece.text.startsWith('\x1b')) plain += piece.text;
  return plain;
}

export function displayWidth(text: string): number {
  let width = 0;
  for (const piece of pieces(text)) width += piece.width;
  return width;
}

/**
 * Split `text` (one line, no newline) at `width` columns: the head fits in `width`, the tail is the
 * rest. With `words`, the cut moves back to the last space when one is in the second half of the head
 * (the space is dropped). Styles are kept on the side they were written.
 */
export function splitAt(text: string, width: number, words = false): { head: string; tail: string } {
  let used = 0;
  let cut = text.length;
  let index = 0;
  let lastSpace = -1;
  let spaceWidth = 0;
  for (const piece of pieces(text)) {
    if (used + piece.width > width) {
      cut = index;
      break;
    }
    if (piece.text === ' ') {
      lastSpace = index;
      spaceWidth = used;
    }
    used += piece.width;
    index += piece.text.length;
  }
  if (cut === text.length) return { head: text, tail: '' };
  if (words && lastSpace > 0 && spaceWidth >= width / 2) return { head: text.slice(0, lastSpace), tail: text.slice(lastSpace + 1) };
  return { head: text.slice(0, cut), tail: text.slice(cut) };
}

/** `text` cut to `width` columns, ending in `…` when cut; an open style is closed. */
export function clip(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  const { head } = splitAt(text, Math.max(0, width - 1));
  return `${head}…${head.includes('\x1b[') ? '\x1b[0m' : ''}`;
}
