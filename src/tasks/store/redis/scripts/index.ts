/**
 * The Lua scripts of the Redis task store, one file per concern. Each runs atomically in Redis.
 * Values in task hashes are JSON (`"running"`, `12`), written by the client: a script compares
 * and copies them, and decodes only the few it reasons about. Every task write starts with the
 * replay guard and fence check of `prelude.ts`.
 *
 * Scripts that walk many tasks (`query`, `heartbeat`, `prune`, `listSessions`) name per-task keys
 * from the prefix (`<prefix>:task:<id>`, the form `RedisKeys` uses), not from KEYS: they need a
 * single Redis (or every key on one cluster slot, with a `{hash tag}` prefix).
 */
export { answerApprovalScript } from './approvals.js';
export { chargeSpendScript, raiseBudgetScript } from './budgets.js';
export { heartbeatScript } from './heartbeat.js';
export { migrate1to2Script, migrate2to3Script } from './migrations.js';
export { opLogLength } from './prelude.js';
export { pruneScript } from './prune.js';
export { queryScript, readScript } from './reads.js';
export { listSessionsScript, saveSessionScript } from './sessions.js';
export { addSteerScript, settleSteersScript } from './steers.js';
export { createScript, writeScript } from './task-writes.js';
