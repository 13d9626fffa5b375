import { emitKeypressEvents } from 'node:readline';
import type { ReadStream, WriteStream } from 'node:tty';
import type { Palette } from '../colors.js';
import type { ApprovalChoice, ApprovalQuestion, ChatScreen, ScreenHandlers } from './chat-screen.js';
import { type Key, LineEditor } from './line-editor.js';
import { clip, displayWidth, splitAt } from './screen-text.js';

/** Control characters other than newline and colour (SGR) sequences: never sent to the terminal as is. */
const unsafe = /\x1b\[[0-9;]*m|\t|[\x00-\x09\x0b-\x1f\x7f]/g;

/**
 * The interactive chat screen. Below the transcript sits a live area, redrawn in place:
 *
 *     legate› the reply being stream…      ← the transcript's unfinished line
 *       ⧗ waiting for t_1a2b 4s …          ← status, dock and queued lines (`setLive`)
 *     you› what the user is typi▌          ← the prompt and its line editor
 *
 * Every row of the live area is cut to the terminal's width minus one, so each takes exactly one
 * screen row and the area's height is known: erasing it is "carriage return, up height-1 rows,
 * erase to end of screen". Transcript text is written only after erasing, and only whole rows
 * (long lines are wrapped here, at a space when there is one), so nothing the transcript holds is
 * ever redrawn or overwritten, and nothing of an old live area stays behind. The terminal is in raw
 * mode; keys go to a `LineEditor`, so what is being typed is part of every redraw.
 */
export class TerminalScreen implements ChatScreen {
  readonly interactive = true;
  private readonly editor = new LineEditor();
  private live: () => string[] = () => [];
  private partial = '';
  /** The live area on screen: each row's width, and the cursor's column on the last row. */
  private drawn: { widths: number[]; column: number } = { widths: [], column: 0 };
  private promptVisible = true;
  private handlers: ScreenHandlers | undefined;
  private closed = false;
  /** The approval question shown in place of the prompt, and how to answer it. */
  private question: { question: ApprovalQuestion; selected?: ApprovalChoice; answer: (choice: ApprovalChoice) => void } | undefined;

  constructor(
    private readonly stdin: ReadStream,
    private readonly stdout: WriteStream,
    readonly palette: Palette,
  ) {}

  private get prompt(): string {
    return this.palette.bold(this.palette.green('you› '));
  }

  write(text: string): void {
    if (this.closed) {
      this.stdout.write(text);
      return;
    }
    const width = this.width();
    let out = this.erase();
    const lines = text.replace(unsafe, (match) => (match === '\t' ? '    ' : match.startsWith('\x1b') ? match : '')).split('\n');
    lines.forEach((line, index) => {
      this.partial += line;
      while (displayWidth(this.partial) > width) {
        const { head, tail } = splitAt(this.partial, width, true);
        out += `${head}\r\n`;
        this.partial = tail;
      }
      if (index < lines.length - 1) {
        out += `${this.partial}\r\n`;
        this.partial = '';
      }
    });
    this.stdout.write(out + this.frame());
  }

  note(line: string): void {
    this.write(`${this.partial ? '\n' : ''}${line}\n`);
  }

  setLive(lines: () => string[]): void {
    this.live = lines;
  }

  refresh(): void {
    if (!this.closed) this.stdout.write(this.erase() + this.frame());
  }

  showPrompt(visible: boolean): void {
    this.promptVisible = visible;
    this.refresh();
  }

  start(handlers: ScreenHandlers): void {
    this.handlers = handlers;
    emitKeypressEvents(this.stdin);
    this.stdin.setRawMode(true);
    this.stdin.on('keypress', this.onKey);
    this.stdin.resume();
    this.stdout.on('resize', this.onResize);
    // Bracketed paste: a pasted text arrives marked, so its newlines do not send it line by line.
    this.stdout.write('\x1b[?2004h');
    this.refresh();
  }

  /**
   * Ask in place of the prompt: the question's rows, then a row of choices. y (once), a (for the
   * session) or n selects, Enter confirms the selection; Esc or Ctrl-C denies at once. Keys reach
   * neither the line being typed (kept, shown again after) nor the chat's Ctrl-C, and a key typed
   * by chance as the question appears approves nothing without an Enter. One question at a time
   * (the gate queues them).
   */
  askApproval(question: ApprovalQuestion, signal?: AbortSignal): Promise<ApprovalChoice> {
    if (this.closed || this.question || signal?.aborted) return Promise.resolve('deny');
    return new Promise((resolve) => {
      const onAbort = (): void => answer('deny');
      const answer = (choice: ApprovalChoice): void => {
        if (this.question?.question !== question) return;
        this.question = undefined;
        signal?.removeEventListener('abort', onAbort);
        this.refresh();
        resolve(choice);
      };
      this.question = { question, answer };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.refresh();
    });
  }

  close(): void {
    if (this.closed) return;
    this.question?.answer('deny');
    this.promptVisible = false;
    this.live = () => [];
    this.stdout.write(`${this.erase()}${this.partial ? `${this.partial}\r\n` : ''}\x1b[0m\x1b[?2004l`);
    this.partial = '';
    this.closed = true;
    this.stdin.off('keypress', this.onKey);
    this.stdout.off('resize', this.onResize);
    if (this.stdin.isTTY) this.stdin.setRawMode(false);
    this.stdin.pause();
  }

  private readonly onKey = (input: string | undefined, key: Key | undefined): void => {
    if (this.question) {
      const pressed = key ?? {};
      if ((pressed.ctrl && pressed.name === 'c') || pressed.name === 'escape') this.question.answer('deny');
      else if ((pressed.name === 'return' || pressed.name === 'enter') && this.question.selected) this.question.answer(this.question.selected);
      else {
        const choice = pressed.ctrl || pressed.meta ? undefined : approvalKeys.get(input?.toLowerCase() ?? '');
        if (choice) {
          this.question.selected = choice;
          this.refresh();
        }
      }
      return;
    }
    const action = this.editor.handle(input, key ?? {});
    if (!this.promptVisible && action.type !== 'interrupt' && action.type !== 'eof') {
      this.editor.clear();
      return;
    }
    switch (action.type) {
      case 'submit':
        this.refresh();
        this.handlers?.line(action.line);
        return;
      case 'interrupt':
        if (this.editor.text) {
          this.editor.clear();
          this.refresh();
        } else this.handlers?.interrupt();
        return;
      case 'eof':
        this.handlers?.eof();
        return;
      case 'redraw':
        this.drawn = { widths: [], column: 0 };
        this.stdout.write(`\x1b[2J\x1b[H${this.frame()}`);
        return;
      case 'edit':
        this.refresh();
        return;
      case 'none':
        return;
    }
  };

  private readonly onResize = (): void => this.refresh();

  private width(): number {
    return Math.max(20, this.size().columns) - 1;
  }

  /**
   * The terminal's size now, asked of the tty itself (TIOCGWINSZ), not `columns`/`rows` as node
   * cached them when it last handled SIGWINCH: between a resize and that handler (a key, a tick or
   * a task event first in the same turn of the event loop) a redraw with the old width would count
   * the re-wrapped rows wrong and leave some of the old live area behind.
   */
  private size(): { columns: number; rows: number } {
    const handle = (this.stdout as unknown as { _handle?: { getWindowSize?(size: number[]): number } })._handle;
    const size = [0, 0];
    if (typeof handle?.getWindowSize === 'function' && handle.getWindowSize(size) === 0 && size[0]! > 0 && size[1]! > 0) {
      return { columns: size[0]!, rows: size[1]! };
    }
    return { columns: this.stdout.columns || 80, rows: this.stdout.rows || 24 };
  }

  /**
   * Erase the live area; the cursor ends at the start of its first row. Rows were drawn narrower
   * than the terminal, so each is one screen row, unless the terminal has since become narrower and
   * re-wrapped them (as tmux, VTE, iTerm2, kitty do): count the rows they take now.
   */
  private erase(): string {
    const columns = this.width() + 1;
    const { widths, column } = this.drawn;
    let up = Math.floor(column / columns);
    for (const width of widths.slice(0, -1)) up += Math.max(1, Math.ceil(width / columns));
    this.drawn = { widths: [], column: 0 };
    return `\r${up > 0 ? `\x1b[${up}A` : ''}\x1b[J`;
  }

  /** Draw the live area from the cursor's row; the cursor ends on the prompt (or the last row). */
  private frame(): string {
    const width = this.width();
    const height = Math.max(3, this.size().rows);
    const rows: string[] = [];
    if (this.partial) rows.push(this.partial);
    const asking = this.question ? this.questionRows(this.question.question, this.question.selected, width, height) : [];
    let live = this.live().map((line) => clip(line, width));
    const room = height - 1 - rows.length - (asking.length > 0 ? asking.length : this.promptVisible ? 1 : 0);
    if (live.length > room) live = [...live.slice(0, Math.max(0, room - 1)), this.palette.dim(`  … ${live.length - Math.max(0, room - 1)} more`)];
    rows.push(...live);
    let column = -1;
    if (asking.length > 0) {
      rows.push(...asking);
      column = displayWidth(asking.at(-1)!);
    } else if (this.promptVisible) {
      const { text, cursor } = this.inputRow(width - displayWidth(this.prompt));
      rows.push(`${this.prompt}${text}`);
      column = displayWidth(this.prompt) + cursor;
    }
    const widths = rows.map((row) => displayWidth(row));
    this.drawn = { widths, column: column >= 0 ? column : (widths.at(-1) ?? 0) };
    if (rows.length === 0) return '';
    return `${rows.join('\r\n')}${column >= 0 ? `\r${column > 0 ? `\x1b[${column}C` : ''}` : ''}`;
  }

  /**
   * The approval question as rows of at most `width` columns: the subject whole, wrapped (unless
   * it would not fit on the screen: then its rows up to `height` and how much is left out).
   */
  private questionRows(question: ApprovalQuestion, selected: ApprovalChoice | undefined, width: number, height: number): string[] {
    const { bold, yellow, cyan, dim } = this.palette;
    /** `text` in rows of `width - indent`, at most `most` (the last then ends with `…`). */
    const wrap = (text: string, indent: number, most: number): string[] => {
      const rows: string[] = [];
      let rest = text.replace(unsafe, ' ');
      while (rest && rows.length < most) {
        const { head, tail } = splitAt(rest, Math.max(10, width - indent), true);
        rows.push(head);
        rest = tail;
      }
      if (rest && rows.length > 0) rows.push(`${clip(rows.pop()!, Math.max(10, width - indent) - 1)}…`);
      return rows;
    };
    const title = wrap(question.title, 2, 2).map((row, index) => `${index === 0 ? bold(yellow('?')) : ' '} ${bold(yellow(row))}`);
    const subject = question.subject.split('\n').flatMap((line) => wrap(line, 4, Number.POSITIVE_INFINITY));
    const room = Math.max(3, height - 12);
    const shown = subject.length > room ? [...subject.slice(0, room - 1), dim(`… ${subject.length - room + 1} more rows not shown`)] : subject;
    return [
      ...title,
      ...shown.map((row) => `    ${cyan(row)}`),
      ...wrap(question.reason, 4, 4).map((row) => `    ${dim(row)}`),
      clip(
        `  ${bold('y')} once · ${bold('a')} for this session (${question.sessionScope}) · ${bold('n')} deny, then Enter › ${selected ? bold(choiceLabels[selected]) : ''}`,
        width,
      ),
    ];
  }

  /** The visible part of the input line in `room` columns, scrolled so the cursor shows. */
  private inputRow(room: number): { text: string; cursor: number } {
    const visible = (text: string): string => text.replace(/\n/g, '↵');
    const before = visible(this.editor.split().before);
    const after = visible(this.editor.split().after);
    const beforeWidth = displayWidth(before);
    if (beforeWidth < room) return { text: before + splitAt(after, room - beforeWidth).head, cursor: beforeWidth };
    const chars = [...before];
    let shown = '';
    while (chars.length > 0 && displayWidth(chars.at(-1)! + shown) <= room - 2) shown = chars.pop()! + shown;
    return { text: `…${shown}`, cursor: 1 + displayWidth(shown) };
  }
}

/** The keys that select an answer to an approval question, and how the selection is shown. */
const approvalKeys = new Map<string, ApprovalChoice>([
  ['y', 'once'],
  ['a', 'session'],
  ['n', 'deny'],
]);
const choiceLabels: Record<ApprovalChoice, string> = { once: 'once', session: 'for this session', deny: 'deny' };
