import { appendFileSync, mkdirSync } from 'node:fs';
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
  }

  /** Extra detail: stderr with `--verbose`, and the log file. */
  detail(line: string): void {
    const text = redactSecrets(line, this.secrets);
    if (this.verbose) this.stderr?.write(`legate: ${text}\n`);
    this.append(text);
  }

  /** The log file only (what stderr already shows, or what only a post-mortem needs). */
  record(line: string): void {
    this.append(redactSecrets(line, this.secrets));
  }

  private append(text: string): void {
    if (!this.file || this.broken) return;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const lines = text.split('\n').map((part) => `${new Date().toISOString()} ${process.pid} ${this.command}: ${part}`);
      appendFileSync(this.file, `${lines.join('\n')}\n`, { mode: 0o600 });
    } catch {
      this.broken = true;
    }
  }
}

/** A log that writes nowhere (the default when a caller passes none). */
export const silentLog = new CommandLog(undefined, undefined, false);
