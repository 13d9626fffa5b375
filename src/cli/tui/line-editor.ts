import { charWidth } from './screen-text.js';

/** A key as node's `readline.emitKeypressEvents` reports it. */
export interface Key {
  name?: string | undefined;
  ctrl?: boolean | undefined;
  meta?: boolean | undefined;
  shift?: boolean | undefined;
  sequence?: string | undefined;
}

/** What a key asks the chat to do. `edit` means only the input line changed. */
export type EditorAction =
  | { type: 'submit'; line: string }
  | { type: 'interrupt' }
  | { type: 'eof' }
  | { type: 'redraw' }
  | { type: 'edit' }
  | { type: 'none' };

/**
 * The input line of the chat prompt: text, cursor, history. Pure state: keys in, actions out; the
 * terminal draws it. Emacs-style keys as readline has them (Ctrl-A/E/B/F/U/K/W, arrows, Home/End,
 * Up/Down for history). A bracketed paste keeps its newlines: pasted lines make one message.
 */
export class LineEditor {
  /** The line as code points, so the cursor never splits a character. */
  private chars: string[] = [];
  private cursor = 0;
  private readonly history: string[] = [];
  /** Position in history while browsing (history.length: the line being typed). */
  private browsing = 0;
  private draft: string[] = [];
  /** Inside a bracketed paste: Enter is a newline in the message, not a submit. */
  private pasting = false;

  get text(): string {
    return this.chars.join('');
  }

  handle(input: string | undefined, key: Key = {}): EditorAction {
    const name = key.name;
    if (name === 'paste-start' || name === 'paste-end') {
      this.pasting = name === 'paste-start';
      return { type: 'none' };
    }
    if (this.pasting && (name === 'return' || name === 'enter')) return this.insert('\n');
    if (key.ctrl && !key.meta) {
      switch (name) {
        case 'c':
          return { type: 'interrupt' };
        case 'd':
          if (this.chars.length === 0) return { type: 'eof' };
          return this.remove(this.cursor, this.cursor + 1);
        case 'a':
          return this.move(0);
        case 'e':
          return this.move(this.chars.length);
        case 'b':
          return this.move(this.cursor - 1);
        case 'f':
          return this.move(this.cursor + 1);
        case 'u':
          return this.remove(0, this.cursor);
        case 'k':
          return this.remove(this.cursor, this.chars.length);
        case 'w':
          return this.remove(this.wordStart(), this.cursor);
        case 'h':
          return this.remove(this.cursor - 1, this.cursor);
        case 'l':
          return { type: 'redraw' };
        case 'p':
          return this.recall(-1);
        case 'n':
          return this.recall(1);
        default:
          if (name !== 'j' && name !== 'm') return { type: 'none' };
      }
    }
    switch (name) {
      case 'return':
      case 'enter':
        return this.submit();
      case 'backspace':
        return key.meta ? this.remove(this.wordStart(), this.cursor) : this.remove(this.cursor - 1, this.cursor);
      case 'delete':
        return this.remove(this.cursor, this.cursor + 1);
      case 'left':
        return this.move(this.cursor - 1);
      case 'right':
        return this.move(this.cursor + 1);
      case 'home':
        return this.move(0);
      case 'end':
        return this.move(this.chars.length);
      case 'up':
        return this.recall(-1);
      case 'down':
        return this.recall(1);
      case 'tab':
        return this.insert(' ');
      default:
        break;
    }
    if (key.meta || key.ctrl || input === undefined) return { type: 'none' };
    const printable = [...input].filter((char) => charWidth(char.codePointAt(0)!) > 0 || /\p{M}/u.test(char)).join('');
    return printable ? this.insert(printable) : { type: 'none' };
  }

  /** The text before the cursor and after it (for drawing). */
  split(): { before: string; after: string } {
    return { before: this.chars.slice(0, this.cursor).join(''), after: this.chars.slice(this.cursor).join('') };
  }

  /** Forget the line being typed (Ctrl-C with text). */
  clear(): void {
    this.chars = [];
    this.cursor = 0;
    this.browsing = this.history.length;
  }

  private insert(text: string): EditorAction {
    const added = [...text];
    this.chars.splice(this.cursor, 0, ...added);
    this.cursor += added.length;
    return { type: 'edit' };
  }

  private remove(from: number, to: number): EditorAction {
    const start = Math.max(0, from);
    const end = Math.min(this.chars.length, to);
    if (end <= start) return { type: 'none' };
    this.chars.splice(start, end - start);
    this.cursor = start;
    return { type: 'edit' };
  }

  private move(to: number): EditorAction {
    const next = Math.max(0, Math.min(this.chars.length, to));
    if (next === this.cursor) return { type: 'none' };
    this.cursor = next;
    return { type: 'edit' };
  }

  private wordStart(): number {
    let index = this.cursor;
    while (index > 0 && this.chars[index - 1] === ' ') index--;
    while (index > 0 && this.chars[index - 1] !== ' ') index--;
    return index;
  }

  private recall(step: number): EditorAction {
    const next = this.browsing + step;
    if (next < 0 || next > this.history.length) return { type: 'none' };
    if (this.browsing === this.history.length) this.draft = this.chars;
    this.browsing = next;
    this.chars = next === this.history.length ? this.draft : [...this.history[next]!];
    this.cursor = this.chars.length;
    return { type: 'edit' };
  }

  private submit(): EditorAction {
    const line = this.text;
    if (line.trim() && this.history.at(-1) !== line) this.history.push(line);
    this.clear();
    this.draft = [];
    return { type: 'submit', line };
  }
}
