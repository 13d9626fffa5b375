import { oneLine } from '../tasks/output-lines.js';
import type { TaskRecord } from '../tasks/task-record.js';
import { noColors, type Palette } from './colors.js';

interface DockEntry {
  id: string;
  goal: string;
  status: string;
  since: number;
  activity: string;
}

/**
 * The dock of a session's open top-level tasks, shown in the chat's live area: one line per task
 * (id, status, elapsed, last activity, goal). It only keeps state and makes lines; the terminal
 * draws them in place. Fed by this process's task events and by `sync` with the store (tasks run
 * by another process).
 */
export class TaskDock {
  private readonly entries = new Map<string, DockEntry>();

  constructor(
    private readonly sessionId: string,
    private readonly palette: Palette = noColors,
  ) {}

  update(task: TaskRecord): void {
    if (task.depth !== 1 || task.sessionId !== this.sessionId) return;
    if (task.status === 'queued' || task.status === 'running') {
      const previous = this.entries.get(task.id);
      this.entries.set(task.id, {
        id: task.id,
        goal: task.goal,
        status: task.status,
        since: task.startedAt ?? task.createdAt,
        activity: previous?.activity ?? '',
      });
    } else {
      this.entries.delete(task.id);
    }
  }

  activity(taskId: string, activity: string): void {
    const entry = this.entries.get(taskId);
    if (entry) entry.activity = activity;
  }

  /** Make the dock match the store's view of the session's tasks (`list` holds all of them). */
  sync(tasks: TaskRecord[]): void {
    const present = new Set<string>();
    for (const task of tasks) {
      present.add(task.id);
      this.update(task);
    }
    for (const id of this.entries.keys()) if (!present.has(id)) this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }

  lines(now = Date.now()): string[] {
    const { yellow, dim, cyan } = this.palette;
    return [...this.entries.values()].map((entry) => {
      const elapsed = `${Math.max(0, Math.round((now - entry.since) / 1000))}s`;
      return (
        `  ${yellow('◆')} ${cyan(entry.id)} ${entry.status.padEnd(7)} ${elapsed.padStart(5)}` +
        `  ${dim(oneLine(entry.activity || '…', 30).padEnd(30))}  ${oneLine(entry.goal, 50)}`
      );
    });
  }
}
