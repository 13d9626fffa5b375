import { isTerminal, taskStatuses } from '../tasks/status.js';
import type { TaskRecord } from '../tasks/task-record.js';
import { operator } from '../tasks/task-service.js';
import { rowFingerprint } from './task-views.js';

/** What the feed reads: the task service's operator view (any process's tasks, from the store). */
export interface TaskSource {
  list(caller: typeof operator, filter: { status?: TaskRecord['status'][]; limit?: number }): Promise<TaskRecord[]>;
  get(caller: typeof operator, taskId: string): Promise<TaskRecord>;
  subscribe(listener: (event: { type: string }) => void): () => void;
}

export type FeedListener = (task: TaskRecord) => void;

/** How many of the newest tasks each look reads besides the open ones (new and just-ended tasks show up there). */
const newestWindow = 50;

/**
 * Tells its listeners each time a task changed, whichever process changed it. Tasks run in other
 * processes (a worker, a chat, another machine in shared mode) announce nothing here, so the feed
 * looks at the store every `intervalMs` — the open tasks, the newest ones, and those open at the
 * previous look — and at once when this process's task service announces an event; a task whose
 * row changed since the last look is passed on. The page itself never polls: it gets these changes
 * pushed over its event stream.
 */
export class TaskFeed {
  private readonly listeners = new Set<FeedListener>();
  private readonly seen = new Map<string, string>();
  private open = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private looking: Promise<void> | undefined;
  private again = false;
  private readonly unsubscribe: () => void;
  private primed = false;

  constructor(
    private readonly source: TaskSource,
    private readonly intervalMs = 250,
  ) {
    this.unsubscribe = source.subscribe(() => void this.look());
  }

  /** Start looking (the first look only learns what is there). */
  async start(): Promise<void> {
    await this.look();
    this.timer = setInterval(() => void this.look(), this.intervalMs);
    this.timer.unref();
  }

  subscribe(listener: FeedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe();
    this.listeners.clear();
  }

  /** One look at the store; a look asked for while one runs is made once after it. */
  look(): Promise<void> {
    if (this.looking) {
      this.again = true;
      return this.looking;
    }
    this.looking = (async () => {
      try {
        do {
          this.again = false;
          await this.compare();
        } while (this.again);
      } catch {
        // The store was unreachable for a moment (a Redis blip): the next look tries again.
      } finally {
        this.looking = undefined;
      }
    })();
    return this.looking;
  }

  private async compare(): Promise<void> {
    const [active, newest] = await Promise.all([
      this.source.list(operator, { status: openStatuses, limit: 10_000 }),
      this.source.list(operator, { limit: newestWindow }),
    ]);
    const found = new Map<string, TaskRecord>();
    for (const task of [...active, ...newest]) found.set(task.id, task);
    // Open at the previous look and not among these: it ended (or left the newest window); read it.
    const gone = [...this.open].filter((id) => !found.has(id));
    const reread = await Promise.all(gone.map((id) => this.source.get(operator, id).catch(() => undefined))); // unreadable now: the next look reads it again
    for (const task of reread) if (task) found.set(task.id, task);
    const changed: TaskRecord[] = [];
    for (const task of found.values()) {
      const print = rowFingerprint(task);
      if (this.seen.get(task.id) !== print) {
        this.seen.set(task.id, print);
        changed.push(task);
      }
    }
    this.open = new Set([...found.values()].filter((task) => !isTerminal(task.status)).map((task) => task.id));
    if (!this.primed) {
      this.primed = true;
      return;
    }
    for (const task of changed.sort((a, b) => a.createdAt - b.createdAt)) {
      for (const listener of this.listeners) {
        try {
          listener(task);
        } catch {
          // One stream's failure never stops the others.
        }
      }
    }
  }
}

/** Every status a task can still leave (queued, running, interrupted, waiting for an approval…). */
const openStatuses = taskStatuses.filter((status) => !isTerminal(status));
