import type { TaskRecord } from '../tasks/task-record.js';
import { oneLine } from '../tasks/output-lines.js';

interface DockEntry {
  id: string;
  goal: string;
  status: string;
  since: number;
  activity: string;
}

/**
 * The live dock of running tasks drawn just above the chat prompt: one line per task (id, status,
 * elapsed, last activity, goal). It redraws in place and re-prompts so typing is not disturbed;
 * anything else printed first calls `clear()`. Without a TTY it draws nothing.
 */
export class TaskDock {
  private readonly entries = new Map<string, DockEntry>();
  private drawn = 0;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly reprompt: () => void,
    private readonly enabled: boolean,
  ) {
    if (enabled) {
      this.timer = setInterval(() => this.entries.size > 0 && this.drawn > 0 && this.render(true), 1000);
      this.timer.unref();
    }
  }

  update(task: TaskRecord): void {
    if (task.depth !== 1) return;
    if (task.status === 'queued' || task.status === 'running') {
      const previous = this.entries.get(task.id);
      this.entries.set(task.id, { id: task.id, goal: task.goal, status: task.status, since: task.startedAt ?? task.createdAt, activity: previous?.activity ?? '' });
    } else {
      this.entries.delete(task.id);
    }
    if (this.drawn > 0) this.render(true);
  }

  activity(taskId: string, activity: string): void {
    const entry = this.entries.get(taskId);
    if (entry) entry.activity = activity;
  }

  lines(now = Date.now()): string[] {
    return [...this.entries.values()].map((entry) => {
      const elapsed = `${Math.round((now - entry.since) / 1000)}s`;
      return `  ◆ ${entry.id} ${entry.status.padEnd(7)} ${elapsed.padStart(5)}  ${oneLine(entry.activity || '…', 30).padEnd(30)}  ${oneLine(entry.goal, 50)}`;
    });
  }

  /** Draw (or redraw in place) the dock above the prompt. */
  render(inPlace = false): void {
    if (!this.enabled) return;
    if (inPlace) this.clear();
    const lines = this.lines();
    if (lines.length === 0) return;
    this.out.write(`\r\x1b[K${lines.join('\n')}\n`);
    this.drawn = lines.length;
    if (inPlace) this.reprompt();
  }

  /** Erase the dock (and the prompt line) before other output. */
  clear(): void {
    if (!this.enabled || this.drawn === 0) return;
    this.out.write(`\r\x1b[K\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
