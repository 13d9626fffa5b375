import { LegateError } from '../../../errors.js';
import { isTaskStatus } from '../../status.js';
import type { SteerRecord, TaskRecord } from '../../task-record.js';

/** How a record field is kept in its column: as is, as 0/1, or as JSON text. */
type ColumnKind = 'value' | 'boolean' | 'json';

interface TaskColumn {
  field: keyof TaskRecord;
  column: string;
  kind: ColumnKind;
}

const column = (field: keyof TaskRecord, name: string, kind: ColumnKind = 'value'): TaskColumn => ({ field, column: name, kind });

/** Every TaskRecord field that has a column in `tasks` (schema v4). Other fields go to `extra`. */
export const taskColumns: readonly TaskColumn[] = [
  column('id', 'id'),
  column('sessionId', 'session_id'),
  column('status', 'status'),
  column('createdAt', 'created_at'),
  column('cwd', 'cwd'),
  column('goal', 'goal'),
  column('context', 'context'),
  column('toolsets', 'toolsets', 'json'),
  column('route', 'route'),
  column('model', 'model'),
  column('depth', 'depth'),
  column('mode', 'mode'),
  column('startedAt', 'started_at'),
  column('endedAt', 'ended_at'),
  column('exitReason', 'exit_reason'),
  column('error', 'error'),
  column('summary', 'summary'),
  column('apiCalls', 'api_calls'),
  column('usage', 'usage', 'json'),
  column('currentTool', 'current_tool'),
  column('lastActivity', 'last_activity'),
  column('outputLines', 'output_lines'),
  column('reported', 'reported', 'boolean'),
  column('owner', 'owner'),
  column('leaseExpiresAt', 'lease_expires_at'),
  column('epoch', 'epoch'),
  column('cancelledBy', 'cancelled_by'),
  column('takeovers', 'takeovers'),
  column('approval', 'approval', 'json'),
  column('approvalNoticed', 'approval_noticed'),
];

const columnByField = new Map<string, TaskColumn>(taskColumns.map((spec) => [spec.field, spec]));

export type SqlValue = string | number | bigint | Buffer | null;
export type TaskRow = Record<string, SqlValue>;

/** `INSERT … VALUES (@id, @session_id, …)`: the parameters for a whole record. */
export function taskToRow(task: TaskRecord): TaskRow {
  const row: TaskRow = {};
  const extra: Record<string, unknown> = {};
  for (const spec of taskColumns) row[spec.column] = encode(spec.kind, task[spec.field]);
  for (const [field, value] of Object.entries(task)) {
    if (value !== undefined && !columnByField.has(field)) extra[field] = value;
  }
  row.extra = Object.keys(extra).length > 0 ? JSON.stringify(extra) : null;
  return row;
}

/** The record a `tasks` row holds. NULL columns become absent fields. */
export function taskFromRow(row: TaskRow): TaskRecord {
  const record: Record<string, unknown> = typeof row.extra === 'string' ? (parseColumn(row, 'extra') as Record<string, unknown>) : {};
  for (const spec of taskColumns) {
    const value = row[spec.column];
    if (value === null || value === undefined) continue;
    record[spec.field] = spec.kind === 'json' ? parseColumn(row, spec.column) : decode(spec.kind, value);
  }
  if (!isTaskStatus(record.status)) throw corruptTask(row, 'status', `unknown status ${JSON.stringify(record.status)}`);
  return record as unknown as TaskRecord;
}

function parseColumn(row: TaskRow, name: string): unknown {
  try {
    return JSON.parse(row[name] as string);
  } catch (error) {
    throw corruptTask(row, name, `not valid JSON: ${(error as Error).message}`);
  }
}

function corruptTask(row: TaskRow, column: string, problem: string): LegateError {
  return new LegateError('store_corrupt', `task "${String(row.id)}" column ${column} is damaged: ${problem}`, { taskId: row.id, column });
}

/**
 * `column = @column` assignments and their parameters for the fields of `patch` among `allowed`.
 * A field present with the value `undefined` is cleared (NULL), as the memory store's spread does.
 */
export function assignments(patch: object, allowed: ReadonlySet<string>): { sql: string[]; params: TaskRow } {
  const sql: string[] = [];
  const params: TaskRow = {};
  // Allowed fields without a column of their own live in `extra` (JSON): set (or removed) there.
  let extra = "COALESCE(extra, '{}')";
  let extraFields = 0;
  for (const [field, value] of Object.entries(patch)) {
    if (!allowed.has(field)) continue;
    const spec = columnByField.get(field);
    if (spec) {
      sql.push(`${spec.column} = @${spec.column}`);
      params[spec.column] = encode(spec.kind, value);
      continue;
    }
    const name = `extra_${extraFields++}`;
    extra = value === undefined ? `json_remove(${extra}, @${name})` : `json_set(${extra}, @${name}, json(@${name}_value))`;
    params[name] = `$.${field}`;
    if (value !== undefined) params[`${name}_value`] = JSON.stringify(value);
  }
  if (extraFields > 0) sql.push(`extra = ${extra}`);
  return { sql, params };
}

export function steerFromRow(row: TaskRow): SteerRecord {
  const steer: SteerRecord = {
    id: row.id as number,
    taskId: row.task_id as string,
    message: row.message as string,
    state: row.state as SteerRecord['state'],
    createdAt: row.created_at as number,
  };
  if (row.settled_at !== null && row.settled_at !== undefined) steer.settledAt = row.settled_at as number;
  return steer;
}

function encode(kind: ColumnKind, value: unknown): SqlValue {
  if (value === undefined || value === null) return null;
  if (kind === 'json') return JSON.stringify(value);
  if (kind === 'boolean') return value ? 1 : 0;
  return value as SqlValue;
}

function decode(kind: ColumnKind, value: SqlValue): unknown {
  if (kind === 'json') return JSON.parse(value as string);
  if (kind === 'boolean') return value !== 0;
  return value;
}
