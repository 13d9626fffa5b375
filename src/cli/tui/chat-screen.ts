import { createInterface, type Interface } from 'node:readline';
import type { Palette } from '../colors.js';

/** What the chat hears from the person at the keyboard. */
export interface ScreenHandlers {
  /** A line was entered (already echoed by the terminal, or read from a pipe). */
  line(text: string): void;
  /** Ctrl-C with nothing typed. */
  interrupt(): void;
  /** Ctrl-D on an empty line, or the end of piped input. */
  eof(): void;
}

/** A question the chat puts to the user in place of the prompt: may the agent do this? */
export interface ApprovalQuestion {
  /** What it wants to do, e.g. "run a command outside its sandbox (workspace-write)". */
  title: string;
  /** The exact command or path: shown whole, wrapped, never cut. */
  subject: string;
  /** The policy's reason. */
  reason: string;
  /** What "approve for the session" covers, e.g. "this command" or "writes under /srv/out". */
  sessionScope: string;
}

/** The user's answer: this call only, calls like it for the rest of the session, or no. */
export type ApprovalChoice = 'once' | 'session' | 'deny';

/**
 * Where the chat writes and reads. Two kinds: the interactive terminal (`TerminalScreen`: a live
 * area of status, dock and prompt redrawn in place below the transcript) and a plain one for pipes
 * (`PlainScreen`: transcript on stdout, progress on stderr, lines from stdin).
 */
export interface ChatScreen {
  readonly interactive: boolean;
  readonly palette: Palette;
  /** Transcript text; may end mid-line (streaming). */
  write(text: string): void;
  /** One progress or notice line, starting on a line of its own. */
  note(line: string): void;
  /** The lines shown between the transcript and the prompt (status, dock, queued input). */
  setLive(lines: () => string[]): void;
  /** Redraw the live area (a clock ticked, the dock changed). */
  refresh(): void;
  /** Show or hide the prompt (hidden while leaving: typing would get no answer). */
  showPrompt(visible: boolean): void;
  start(handlers: ScreenHandlers): void;
  /**
   * Ask `question` in place of the prompt (what is being typed is kept for after) and resolve with
   * the answer; Ctrl-C or an aborted `signal` answers `deny`. Only a terminal can ask.
   */
  askApproval?(question: ApprovalQuestion, signal?: AbortSignal): Promise<ApprovalChoice>;
  /** Leave the terminal as it was: live area erased, raw mode off, input released. */
  close(): void;
}

/** Stdout for the transcript, stderr for progress, lines from stdin; no live area. */
export class PlainScreen implements ChatScreen {
  readonly interactive = false;
  private readline: Interface | undefined;

  constructor(
    private readonly streams: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
    readonly palette: Palette,
  ) {}

  write(text: string): void {
    this.streams.stdout.write(text);
  }

  note(line: string): void {
    this.streams.stderr.write(`${line}\n`);
  }

  setLive(): void {}
  refresh(): void {}
  showPrompt(): void {}

  start(handlers: ScreenHandlers): void {
    this.readline = createInterface({ input: this.streams.stdin, terminal: false });
    this.readline.on('line', handlers.line);
    this.readline.once('close', handlers.eof);
  }

  close(): void {
    this.readline?.removeAllListeners('close');
    this.readline?.close();
  }
}
