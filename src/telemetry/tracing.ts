import type { AgentEvent, RunResult } from '../agent/events.js';

/** A span attribute's value. */
export type TraceValue = string | number | boolean;
export type TraceAttributes = Record<string, TraceValue | undefined>;

/** What an `invoke_agent` span is started with. */
export interface AgentSpanStart {
  /** `gen_ai.agent.name`: `legate` for the top-level agent, the route (or `child`) for a task. */
  name: string;
  /** `gen_ai.agent.id`: the task id (the session id for the top-level agent). Its tool spans are found by it. */
  agentId: string;
  /** `gen_ai.conversation.id`: the session. */
  conversationId: string;
  /** `gen_ai.provider.name` of its model calls (`openai`, `anthropic`). */
  provider: string;
  /** `gen_ai.request.model` of its model calls. */
  model: string;
  /** The W3C `traceparent` the span continues (a task's, stored at spawn); absent: a new trace. */
  traceparent?: string;
  /** legate's own attributes (`legate.task.depth`…). */
  attributes?: TraceAttributes;
  /** The agent's input (prompt or brief): recorded only with content capture on. */
  input?: string;
}

/** How a note is added: `time`, when it happened (epoch ms; default now); `once`, a key noted at most once on a span. */
export interface NoteOptions {
  time?: number;
  once?: string;
}

/** A tool call received from outside an agent (an MCP client's), as an `execute_tool {tool}` span. */
export interface ToolCallStart {
  /** Whose call it is: its children's spans are found by it and `callId` (`traceparentOf`). */
  agentId: string;
  callId: string;
  name: string;
  /** The call's JSON arguments (on the span only with content capture). */
  arguments: string;
  /** `gen_ai.conversation.id`: the session. */
  conversationId: string;
  /** The caller's W3C `traceparent` (an MCP request's `_meta.traceparent`); absent or invalid: a new trace. */
  traceparent?: string;
}

export interface ToolCallTrace {
  end(result: { content: string; isError: boolean }): void;
}

/**
 * The trace of one agent run: an `invoke_agent` span whose `chat` and `execute_tool` children are
 * made from the run's events. Never throws.
 */
export interface AgentTrace {
  /** One of the run's events, in order. */
  observe(event: AgentEvent): void;
  /** An event on the agent's span (a steer, an approval, a collect). */
  note(name: string, attributes?: TraceAttributes, options?: NoteOptions): void;
  /** End the span (and any child still open) with the run's result. */
  end(result: RunResult | undefined, attributes?: TraceAttributes): void;
}

/**
 * Tracing of agent runs (OpenTelemetry when an endpoint is configured). The default, `noTracing`,
 * does nothing and loads nothing. Consumers feed it the agents' events; nothing calls it from inside
 * the loop. Never throws.
 */
export interface Tracing {
  readonly enabled: boolean;
  startAgent(start: AgentSpanStart): AgentTrace;
  /** A tool call that no agent of this process made (an MCP client's): its children continue its span. */
  startToolCall(start: ToolCallStart): ToolCallTrace;
  /**
   * The W3C `traceparent` of the `execute_tool` span of call `callId` in the agent `agentId`,
   * while that call runs: a child spawned by the call stores it, so its span continues the tree
   * in whatever process runs it.
   */
  traceparentOf(agentId: string, callId: string): string | undefined;
  /** An event on the span of agent `agentId` if it runs in this process; false when it does not. */
  noteOn(agentId: string, name: string, attributes?: TraceAttributes, options?: NoteOptions): boolean;
  /** Export the spans ended so far now (a bench's warm-up); never rejects. */
  flush(): Promise<void>;
  /** Export what is left and stop; bounded in time (an exporter that is down costs one warning). */
  shutdown(): Promise<void>;
}

const noToolCallTrace: ToolCallTrace = { end: () => {} };

const noAgentTrace: AgentTrace = {
  observe: () => {},
  note: () => {},
  end: () => {},
};

/** Tracing off: nothing is recorded, nothing is loaded. */
export const noTracing: Tracing = {
  enabled: false,
  startAgent: () => noAgentTrace,
  startToolCall: () => noToolCallTrace,
  traceparentOf: () => undefined,
  noteOn: () => false,
  flush: async () => {},
  shutdown: async () => {},
};
