import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { redactSecrets } from '../secrets.js';

/** Where every command appends what it did: `$LEGATE_HOME/logs/legate.log`. */
export function logFilePath(home: string): string {
  return join(home, 'logs', 'legate.log');
}

/**
 * What a command did, for the user to look at afterwards: every line goes to the log file
 * (appended, one timestamped line each, API keys redacted), and `detail` lines also go to stderr
 * with `--verbose`. Writing the log never fails a command: if the file cannot be written, the log
 * goes quiet.
 */
export class CommandLog {
  private readonly secrets = new Set<string>();
  private broken = false;
  /** The log file, opened for appending on the first line written and kept open (a worker writes a line per task event). */
  private fd: number | undefined;
  /** Lines held back until the keys are known (`addSecrets`) or `flush()`: the first lines (argv) may hold a key too. */
  private pending: { at: Date; text: string }[] | undefined = [];

  constructor(
    /** The log file, or undefined for no file (a library caller, tests of one function). */
    readonly file: string | undefined,
    private readonly stderr: NodeJS.WritableStream | undefined,
    readonly verbose: boolean,
    private readonly command = 'legate',
  ) {}

  /** Keys to redact from every later line (config keys, once the config is read). Placeholders of 8 characters or fewer are left alone. */
  addSecrets(keys: Iterable<string>): void {
    for (const key of keys) if (key.length > 8) this.secrets.add(key);
    this.flush();
  }

  /** Extra detail: stderr with `--verbose`, and the log file. */
  detail(line: string): void {
    if (this.verbose) this.stderr?.write(`legate: ${redactSecrets(line, this.secrets)}\n`);
    this.record(line);
  }

  /** The log file only (what stderr already shows, or what only a post-mortem needs). */
  record(line: string): void {
    if (!this.file || this.broken) return;
    if (this.pending) this.pending.push({ at: new Date(), text: line });
    else this.append([{ at: new Date(), text: line }]);
  }

  /** Write the held-back lines (the command ends, or the keys are known). */
  flush(): void {
    const pending = this.pending ?? [];
    this.pending = undefined;
    if (pending.length > 0) this.append(pending);
  }

  /** Write the held-back lines and close the file (the command is over; a later line opens it again). */
  close(): void {
    this.flush();
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // Nothing to keep: the lines were written.
    }
    this.fd = undefined;
  }

  private append(entries: { at: Date; text: string }[]): void {
    if (!this.file || this.broken) return;
    try {
      if (this.fd === undefined) {
        mkdirSync(dirname(this.file), { recursive: true });
        this.fd = openSync(this.file, 'a', 0o600);
      }
      const lines = entries.flatMap(({ at, text }) =>
        redactSecrets(text, this.secrets)
          .split('\n')
          .map((part) => `${at.toISOString()} ${process.pid} ${this.command}: ${part}`),
      );
      writeSync(this.fd, `${lines.join('\n')}\n`);
    } catch {
      // a log that cannot be written stops logging; the command goes on
      this.broken = true;
    }
  }
}

/** A log that writes nowhere (the default when a caller passes none). */
export const silentLog = new CommandLog(undefined, undefined, false);
