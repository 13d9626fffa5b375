/** legate as a library. */

export { Agent, type AgentListener, type AgentSetup } from './agent/agent.js';
export type { AgentEvent, ExitReason, RunResult } from './agent/events.js';
export { type LoopOptions, runAgentLoop } from './agent/loop.js';
export { SteeringQueue, type SteeringSource } from './agent/steering.js';
export type { Budget, SpendCounter } from './budget/budget.js';
export type { EndpointSpec, ResolvedEndpoints } from './config/endpoints.js';
export { type LoadedConfig, type LoadOptions, legateHome, loadConfig } from './config/load.js';
export { type ConfigFile, type ConfigInput, configSchema, type PriceSection } from './config/schema.js';
export { type AgentScope, agentTools, type ToolChoice } from './delegation/agent-tools.js';
export type { ChildEnvironment } from './delegation/child-environment.js';
export { ChildRunner } from './delegation/child-runner.js';
export { type DelegationSession, operatorSession } from './delegation/session.js';
export type { Prices } from './delegation/usage-view.js';
export { type ErrorCode, LegateError } from './errors.js';
export type { McpConnection, McpServerSpec } from './mcp/client.js';
export { connectMcpServers, type McpReporter, type McpToolsets } from './mcp/mcp-toolsets.js';
export { createDelegationServer, defaultMcpSessionId } from './mcp/server.js';
export { CredentialPool, type CredentialPoolOptions, type KeyStatus, type PoolStrategy } from './provider/credential-pool.js';
export { createProvider, type ProviderSettings, type WireName } from './provider/registry.js';
export type {
  AssistantMessage,
  Message,
  ModelRequest,
  Provider,
  ProviderEvent,
  ProviderFailure,
  StopReason,
  ToolCall,
  ToolResultMessage,
  ToolSpec,
  Usage,
  UserMessage,
} from './provider/types.js';
export { Runtime, type RuntimeOptions } from './runtime.js';
export { type ApprovalAnswer, type ApprovalGate, type ApprovalRequest, refuseApprovals } from './sandbox/approval-gate.js';
export type { SandboxMode } from './sandbox/modes.js';
export type { SandboxDecision, SandboxRequest } from './sandbox/policy.js';
export { Session } from './session.js';
export { type Caller, type CallerLike, operator, sessionCaller } from './tasks/caller.js';
export { type Dispatcher, LocalDispatcher } from './tasks/dispatcher.js';
export { type LeaseKeeper, StoreLeaseKeeper } from './tasks/lease-keeper.js';
export { type TaskStatus, transitions } from './tasks/status.js';
export { checkpointOfSteps, type LoadedStep, parseStoredCompaction } from './tasks/store/checkpoint-log.js';
export { fenceHolds, leaseLost } from './tasks/store/fence.js';
export { MemoryTaskStore } from './tasks/store/memory-store.js';
export { findSession, MemorySessionStore, type SessionFilter, type SessionStore } from './tasks/store/session-store.js';
/** The SQLite store lives at `legate/sqlite` (so this entry does not load the native module); its type is here. */
export type { SqliteTaskStore } from './tasks/store/sqlite/sqlite-store.js';
export { parseStoredMessages, storedFormat } from './tasks/store/stored-shapes.js';
export {
  type Checkpoint,
  type CheckpointStep,
  type LoggedCompaction,
  type OutputWrite,
  outputBufferLines,
  outputLineChars,
  type TaskFilter,
  type TaskStore,
  type TransitionPatch,
} from './tasks/store/task-store.js';
export { LocalTaskEnds, type TaskEnds } from './tasks/task-ends.js';
export type { TaskEvent, TaskListener } from './tasks/task-events.js';
export type {
  BudgetRequest,
  CancelledBy,
  Fence,
  PendingApproval,
  SessionRecord,
  SteerRecord,
  SteerState,
  StoredApprovalAnswer,
  StoredCompaction,
  TaskProgress,
  TaskRecord,
  TaskSpec,
} from './tasks/task-record.js';
export { type RunControl, type TaskRunner, TaskService, type TaskServiceOptions } from './tasks/task-service.js';
export { createNodeIO } from './tools/node-io.js';
export { defineTool, type Tool, type ToolContext, type ToolIO, type ToolOutput, type Toolset } from './tools/tool.js';
export { builtinToolsets } from './tools/toolsets.js';
export { refusedAddressKind } from './tools/web/address-guard.js';
export type { SearchSettings, WebSettings } from './tools/web/web-settings.js';
export { webToolset } from './tools/web/web-toolset.js';
/** The scripted model server (`startScriptedServer`, `ScriptedStep`…) is at `legate/testing`. */
