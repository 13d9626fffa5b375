import type { SteerRecord, TaskRecord } from './task-record.js';

/** What the task service announces, a closed union. The chat dock and completion notices consume it. */
export type TaskEvent =
  | { type: 'task.spawned'; task: TaskRecord }
  | { type: 'task.started'; task: TaskRecord }
  | { type: 'task.activity'; taskId: string; sessionId: string; activity: string }
  /** A steer was queued in this process (`steerId`: its record's id). */
  | { type: 'task.steered'; taskId: string; sessionId: string; message: string; steerId: number }
  /** The task running here took its queued steers from the store, wherever they were made, for its next model call. */
  | { type: 'task.steers_taken'; taskId: string; sessionId: string; steers: SteerRecord[] }
  /** A background child's call waits for a human's answer: `task.approval` is the request. */
  | { type: 'task.input_required'; task: TaskRecord }
  /** A human answered the approval request `approvalId` of a task running in this process: it runs on. */
  | { type: 'task.approval_answered'; taskId: string; sessionId: string; approvalId: string; approved: boolean }
  | { type: 'task.ended'; task: TaskRecord }
  /**
   * The store failed a task's write that no caller waits on (a claim made after the task waited for
   * capacity, a run's final status): the task may stay as the store last held it.
   */
  | { type: 'task.store_error'; taskId: string; sessionId: string; error: string };

export type TaskListener = (event: TaskEvent) => void;
