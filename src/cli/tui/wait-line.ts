import type { TaskRecord } from '../../tasks/task-record.js';

/**
 * The "waiting for background tasks" line of `legate run`: each open task with its elapsed time.
 * On a TTY it is one line redrawn in place every second (`say` clears it first, so other progress
 * lines never mix with it); otherwise a plain line each time the set of tasks changes.
 */
export class WaitLine {
  private readonly tasks = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;
  private lastPlain = '';

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly tty: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /** Start showing `open` (queued or running tasks). */
  start(open: TaskRecord[]): void {
    for (const task of open) this.tasks.set(task.id, task.startedAt ?? task.createdAt);
    if (this.tty && !this.timer) {
      this.timer = setInterval(() => this.draw(), 1000);
      this.timer.unref();
    }
    this.draw();
  }

  /** A task of the session changed: keep the open ones. */
  update(task: TaskRecord): void {
    if (task.depth !== 1) return;
    const open = task.status === 'queued' || task.status === 'running' || task.status === 'input_required';
    if (open === this.tasks.has(task.id) && (!open || this.tasks.get(task.id) === (task.startedAt ?? task.createdAt))) return;
    if (open) this.tasks.set(task.id, task.startedAt ?? task.createdAt);
    else this.tasks.delete(task.id);
    if (this.timer || this.lastPlain) this.draw();
  }

  /** Write a progress line without breaking the waiting line. */
  say(line: string): void {
    this.clear();
    this.out.write(`${line}\n`);
    if (this.timer) this.draw();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private text(): string {
    const each = [...this.tasks].map(([id, since]) => `${id} ${Math.max(0, Math.round((this.now() - since) / 1000))}s`);
    return `  … waiting for ${each.length} background task${each.length === 1 ? '' : 's'}: ${each.join(', ')} (Ctrl-C stops waiting; --no-wait skips this)`;
  }

  private draw(): void {
    if (this.tasks.size === 0) {
      this.clear();
      return;
    }
    if (this.tty) {
      this.out.write(`\r\x1b[2K${this.text()}`);
      this.drawn = true;
      return;
    }
    // Plain output: a new line only when the set of tasks changed, not every second.
    const ids = [...this.tasks.keys()].join(' ');
    if (ids === this.lastPlain) return;
    this.lastPlain = ids;
    this.out.write(`${this.text()}\n`);
  }

  private clear(): void {
    if (!this.drawn) return;
    this.out.write('\r\x1b[2K');
    this.drawn = false;
  }
}
