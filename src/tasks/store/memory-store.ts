import type { Budget, SpendCounter } from '../../budget/budget.js';
import { LegateError, quoted } from '../../errors.js';
import { assertTransition, isTerminal, type TaskStatus } from '../status.js';
import type { Fence, SteerRecord, StoredApprovalAnswer, TaskProgress, TaskRecord } from '../task-record.js';
import { answered, assertTransitionArguments, withApprovalRule } from './approval-rules.js';
import { addCharge, chargeDelta, latestCharge, maxChargeDepth, withRaise } from './budget-charges.js';
import { checkpointOfSteps, type LoadedStep } from './checkpoint-log.js';
import { fenceHolds, heldStatuses, leaseLost } from './fence.js';
import { MemorySessionStore, type SessionStore } from './session-store.js';
import {
  type Checkpoint,
  type CheckpointStep,
  type OutputWrite,
  outputBufferLines,
  outputLineChars,
  type TaskFilter,
  type TaskStore,
  type TransitionPatch,
} from './task-store.js';

interface Entry {
  task: TaskRecord;
  output: string[];
  /** Indexed by step number. */
  steps: LoadedStep[];
  steers: SteerRecord[];
}

/** A TaskStore in process memory: fast, not durable. Records are copied in and out. */
export class MemoryTaskStore implements TaskStore {
  private readonly entries = new Map<string, Entry>();
  readonly sessions: SessionStore = new MemorySessionStore();
  private nextSteerId = 1;

  async create(task: TaskRecord): Promise<void> {
    if (this.entries.has(task.id)) throw new LegateError('invalid_arguments', `task "${task.id}" already exists`);
    this.entries.set(task.id, { task: structuredClone(task), output: [], steps: [], steers: [] });
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    const entry = this.entries.get(id);
    return entry ? structuredClone(entry.task) : undefined;
  }

  async list(filter: TaskFilter = {}): Promise<TaskRecord[]> {
    const matches: TaskRecord[] = [];
    for (const { task } of this.entries.values()) if (matchesFilter(task, filter)) matches.push(structuredClone(task));
    matches.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
    return matches.slice(0, filter.limit ?? 100);
  }

  async count(filter: Omit<TaskFilter, 'limit'> = {}): Promise<number> {
    let count = 0;
    for (const { task } of this.entries.values()) if (matchesFilter(task, filter)) count++;
    return count;
  }

  async transition(id: string, from: TaskStatus | readonly TaskStatus[], to: TaskStatus, patch: TransitionPatch = {}, fence?: Fence): Promise<TaskRecord> {
    assertTransitionArguments(id, from, to, patch, fence);
    const entry = this.movable(id, from, to, fence);
    entry.task = withoutUndefined({ ...entry.task, ...structuredClone(withApprovalRule(to, patch)), status: to });
    return structuredClone(entry.task);
  }

  async claim(id: string, from: TaskStatus | readonly TaskStatus[], owner: string, leaseExpiresAt: number, patch: TransitionPatch = {}): Promise<TaskRecord> {
    const entry = this.movable(id, from, 'running');
    const claimed = {
      ...entry.task,
      ...withApprovalRule('running', patch),
      status: 'running' as const,
      owner,
      leaseExpiresAt,
      epoch: (entry.task.epoch ?? 0) + 1,
    };
    entry.task = withoutUndefined(claimed);
    return structuredClone(entry.task);
  }

  async answerApproval(id: string, requestId: string, answer: StoredApprovalAnswer): Promise<TaskRecord> {
    const entry = this.entry(id);
    entry.task = { ...entry.task, approval: answered(entry.task, requestId, answer) };
    return structuredClone(entry.task);
  }

  async chargeSpend(id: string, own: SpendCounter, fence?: Fence): Promise<void> {
    const entry = this.fenced(id, fence);
    const delta = chargeDelta(entry.task.ownSpend, own);
    if (!delta) return;
    entry.task.ownSpend = latestCharge(entry.task.ownSpend, own);
    const seen = new Set<string>();
    for (let at: Entry | undefined = entry; at && !seen.has(at.task.id) && seen.size < maxChargeDepth; at = this.entries.get(at.task.sessionId)) {
      seen.add(at.task.id);
      at.task.spend = addCharge(at.task.spend, delta);
    }
  }

  async raiseBudget(id: string, key: string, by: Budget): Promise<TaskRecord> {
    const entry = this.entry(id);
    entry.task.budgetRaises = withRaise(entry.task.budgetRaises, key, by);
    return structuredClone(entry.task);
  }

  async update(id: string, progress: TaskProgress, fence?: Fence): Promise<void> {
    const entry = this.fenced(id, fence);
    entry.task = { ...entry.task, ...progress };
  }

  async heartbeat(owner: string, leaseExpiresAt: number): Promise<Array<Fence & { id: string }>> {
    const held: Array<Fence & { id: string }> = [];
    for (const entry of this.entries.values()) {
      if (!heldStatuses.includes(entry.task.status) || entry.task.owner !== owner) continue;
      entry.task.leaseExpiresAt = leaseExpiresAt;
      held.push({ id: entry.task.id, owner, epoch: entry.task.epoch ?? 0 });
    }
    return held;
  }

  async prune(endedBefore: number): Promise<number> {
    let pruned = 0;
    for (const [id, { task }] of this.entries) {
      if (isTerminal(task.status) && task.endedAt !== undefined && task.endedAt < endedBefore) {
        this.entries.delete(id);
        pruned++;
      }
    }
    return pruned;
  }

  async appendOutput(id: string, write: OutputWrite, fence?: Fence): Promise<void> {
    const entry = this.fenced(id, fence);
    const { progress } = write;
    // Lines already counted past `at` were written by an earlier copy of this write.
    const lines = write.at === undefined ? write.lines : write.lines.slice(Math.max(0, entry.task.outputLines - write.at));
    if (progress) entry.task = { ...entry.task, ...progress };
    for (const line of lines) entry.output.push(line.length > outputLineChars ? line.slice(0, outputLineChars) : line);
    if (entry.output.length > outputBufferLines) entry.output.splice(0, entry.output.length - outputBufferLines);
    entry.task.outputLines += lines.length;
  }

  async readOutput(id: string, last?: number): Promise<string[]> {
    const output = this.entry(id).output;
    return last === undefined ? [...output] : output.slice(-last);
  }

  async appendCheckpoint(id: string, step: CheckpointStep, fence?: Fence): Promise<void> {
    const steps = this.fenced(id, fence).steps;
    if (steps[step.step] === undefined) {
      steps[step.step] = structuredClone({
        step: step.step,
        iteration: step.iteration,
        messages: step.messages,
        ...(step.compaction ? { compaction: step.compaction } : {}),
      });
    }
  }

  async loadCheckpoint(id: string): Promise<Checkpoint> {
    return structuredClone(checkpointOfSteps(this.entry(id).steps.filter((step) => step !== undefined)));
  }

  async addSteer(taskId: string, message: string): Promise<SteerRecord> {
    const steer: SteerRecord = { id: this.nextSteerId++, taskId, message, state: 'queued', createdAt: Date.now() };
    this.entry(taskId).steers.push(steer);
    return { ...steer };
  }

  async takeSteers(taskId: string, fence?: Fence): Promise<SteerRecord[]> {
    this.fenced(taskId, fence);
    return this.settle(taskId, 'delivered');
  }

  async missSteers(taskId: string): Promise<number> {
    return (await this.settle(taskId, 'missed')).length;
  }

  async listSteers(taskId: string): Promise<SteerRecord[]> {
    return this.entry(taskId).steers.map((steer) => ({ ...steer }));
  }

  async close(): Promise<void> {}

  private settle(taskId: string, state: 'delivered' | 'missed'): SteerRecord[] {
    const settled: SteerRecord[] = [];
    for (const steer of this.entry(taskId).steers) {
      if (steer.state !== 'queued') continue;
      steer.state = state;
      steer.settledAt = Date.now();
      settled.push({ ...steer });
    }
    return settled;
  }

  /** The entry, if it is in one of `from`, `from → to` is legal and `fence` holds; throws otherwise. */
  private movable(id: string, from: TaskStatus | readonly TaskStatus[], to: TaskStatus, fence?: Fence): Entry {
    const entry = this.entry(id);
    const expected: readonly TaskStatus[] = typeof from === 'string' ? [from] : from;
    if (!expected.includes(entry.task.status)) {
      throw new LegateError('illegal_transition', `task "${id}" is ${entry.task.status}, not ${expected.join(' or ')}`, {
        taskId: id,
        from: entry.task.status,
        to,
      });
    }
    assertTransition(id, entry.task.status, to);
    if (!fenceHolds(entry.task, fence)) throw leaseLost(id, fence!, entry.task);
    return entry;
  }

  private fenced(id: string, fence: Fence | undefined): Entry {
    const entry = this.entry(id);
    if (!fenceHolds(entry.task, fence)) throw leaseLost(id, fence!, entry.task);
    return entry;
  }

  private entry(id: string): Entry {
    const entry = this.entries.get(id);
    if (!entry) throw new LegateError('task_not_found', `no task ${quoted(id)}`, { taskId: id });
    return entry;
  }
}

/** The record without fields set to `undefined` (a patch clearing them), as the other stores read it back. */
function withoutUndefined(task: TaskRecord): TaskRecord {
  for (const key of Object.keys(task) as (keyof TaskRecord)[]) if (task[key] === undefined) delete task[key];
  return task;
}

function matchesFilter(task: TaskRecord, filter: Omit<TaskFilter, 'limit'>): boolean {
  if (filter.sessionId !== undefined && task.sessionId !== filter.sessionId) return false;
  if (filter.status && !filter.status.includes(task.status)) return false;
  return filter.cwd === undefined || task.cwd === filter.cwd;
}
