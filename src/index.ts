/** legate as a library. */
export { runAgentLoop, type LoopOptions } from './agent/loop.js';
export type { AgentEvent, RunResult, ExitReason } from './agent/events.js';
export { SteeringQueue, type SteeringSource } from './agent/steering.js';
export { Agent, type AgentSetup, type AgentListener } from './agent/agent.js';
export { loadConfig, legateHome, type LoadedConfig, type LoadOptions } from './config/load.js';
export { configSchema, type ConfigFile, type ConfigInput, type PriceSection } from './config/schema.js';
export type { EndpointSpec, ResolvedEndpoints } from './config/endpoints.js';
export { Runtime, type RuntimeOptions } from './runtime.js';
export { Session } from './session.js';
export { LegateError, type ErrorCode } from './errors.js';
export { createProvider, type ProviderSettings, type WireName } from './provider/registry.js';
export { CredentialPool, type CredentialPoolOptions, type PoolStrategy, type KeyStatus } from './provider/credential-pool.js';
export type {
  Provider,
  ProviderEvent,
  ProviderFailure,
  Message,
  UserMessage,
  AssistantMessage,
  ToolResultMessage,
  ModelRequest,
  StopReason,
  ToolCall,
  ToolSpec,
  Usage,
} from './provider/types.js';
export { defineTool, type Tool, type Toolset, type ToolContext, type ToolIO, type ToolOutput } from './tools/tool.js';
export type { SandboxMode } from './sandbox/modes.js';
export type { SandboxRequest, SandboxDecision } from './sandbox/policy.js';
export { refuseApprovals, type ApprovalGate, type ApprovalRequest, type ApprovalAnswer } from './sandbox/approval-gate.js';
export { agentTools, type AgentScope, type ToolChoice } from './delegation/agent-tools.js';
export { ChildRunner } from './delegation/child-runner.js';
export type { ChildEnvironment } from './delegation/child-environment.js';
export { operatorSession, type DelegationSession } from './delegation/session.js';
export type { Prices } from './delegation/usage-view.js';
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
export { connectMcpServers, type McpToolsets, type McpReporter } from './mcp/mcp-toolsets.js';
export type { McpConnection, McpServerSpec } from './mcp/client.js';
export { createDelegationServer, defaultMcpSessionId } from './mcp/server.js';
/** The scripted model server (`startScriptedServer`, `ScriptedStep`…) is at `legate/testing`. */
