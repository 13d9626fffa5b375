import type { TaskRecord } from './task-record.js';

/** What the task service announces, a closed union. The chat dock and completion notices consume it. */
export type TaskEvent =
  | { type: 'task.spawned'; task: TaskRecord }
  | { type: 'task.started'; task: TaskRecord }
  | { type: 'task.activity'; taskId: string; sessionId: string; activity: string }
  | { type: 'task.steered'; taskId: string; sessionId: string; message: string }
  /** A background child's call waits for a human's answer: `task.approval` is the request. */
  | { type: 'task.input_required'; task: TaskRecord }
  | { type: 'task.ended'; task: TaskRecord };

export type TaskListener = (event: TaskEvent) => void;
