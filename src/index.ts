/** legate as a library. */
export { runAgentLoop, type LoopOptions } from './agent/loop.js';
export type { AgentEvent, RunResult, ExitReason } from './agent/events.js';
export { SteeringQueue, type SteeringSource } from './agent/steering.js';
export { Agent } from './agent/agent.js';
export { loadConfig, legateHome, type LoadedConfig } from './config/load.js';
export { configSchema, type ConfigFile } from './config/schema.js';
export { Runtime, type RuntimeOptions } from './runtime.js';
export { Session } from './session.js';
export { LegateError, type ErrorCode } from './errors.js';
export { createProvider, type ProviderSettings } from './provider/registry.js';
export { CredentialPool } from './provider/credential-pool.js';
export type { Provider, ProviderEvent, Message, ModelRequest, StopReason, ToolCall, Usage } from './provider/types.js';
export { defineTool, type Tool, type Toolset, type ToolContext, type ToolIO } from './tools/tool.js';
export { builtinToolsets } from './tools/toolsets.js';
export { createNodeIO } from './tools/node-io.js';
export { TaskService, type TaskRunner, type RunControl, type TaskServiceOptions } from './tasks/task-service.js';
export { operator, sessionCaller, type Caller, type CallerLike } from './tasks/caller.js';
export type { TaskRecord, TaskSpec, TaskProgress, SessionRecord, SteerRecord, SteerState, Fence, CancelledBy } from './tasks/task-record.js';
export { transitions, type TaskStatus } from './tasks/status.js';
export type { TaskEvent, TaskListener } from './tasks/task-events.js';
export {
  outputBufferLines,
  outputLineChars,
  type TaskStore,
  type TaskFilter,
  type TransitionPatch,
  type Checkpoint,
  type CheckpointStep,
  type OutputWrite,
} from './tasks/store/task-store.js';
export { parseStoredMessages, storedFormat } from './tasks/store/stored-shapes.js';
export { fenceHolds, leaseLost } from './tasks/store/fence.js';
export { MemoryTaskStore } from './tasks/store/memory-store.js';
/** The SQLite store lives at `legate/sqlite` (so this entry does not load the native module); its type is here. */
export type { SqliteTaskStore } from './tasks/store/sqlite-store.js';
export { LocalDispatcher, type Dispatcher } from './tasks/dispatcher.js';
export { StoreLeaseKeeper, type LeaseKeeper } from './tasks/lease-keeper.js';
export { LocalTaskEnds, type TaskEnds } from './tasks/task-ends.js';
export { connectMcpServers, type McpToolsets } from './mcp/mcp-toolsets.js';
export { createDelegationServer, defaultMcpSessionId } from './mcp/server.js';
export { startScriptedServer, type ScriptedServer } from './testing/scripted-server.js';
