import type { SandboxMode } from '../sandbox/modes.js';
import type { Tool, Toolset } from '../tools/tool.js';
import { resolveToolsets } from '../tools/toolsets.js';
import { delegationToolsetNames, delegationToolsets } from './as-tools.js';
import type { DelegationSession } from './session.js';

/** Which agent tools are built for: its session, depth, toolsets and sandbox mode (default: the runtime's). */
export interface AgentScope {
  sessionId: string;
  depth: number;
  toolsets: string[];
  sandbox?: SandboxMode;
  /** The agent's working directory when it is not the runtime's (a child in a worktree): its children start from it. */
  cwd?: string;
}

/** What an agent's tools are chosen from. */
export interface ToolChoice {
  /** Every toolset but the two delegation ones (those are bound to each agent's session). */
  toolsets: readonly Toolset[];
  /** Toolsets only the top-level agent gets (MCP toolsets under `delegation.inherit_mcp_toolsets: false`). */
  parentOnly: ReadonlySet<string>;
  /** `delegation.max_spawn_depth`: an agent at this depth or below gets no delegation tools. */
  maxSpawnDepth: number;
  /** What the delegation tools of an agent in `scope` act on. */
  delegationSession(scope: AgentScope): DelegationSession;
}

/**
 * The tools of an agent in `scope`: its toolsets, with the delegation ones only below the depth
 * limit; a child (depth > 0) gets neither the parent-only toolsets nor interactive tools.
 * Throws on an unknown toolset name.
 */
export function agentTools(scope: AgentScope, choice: ToolChoice): Tool[] {
  const canDelegate = scope.depth < choice.maxSpawnDepth;
  const available = [...choice.toolsets, ...(canDelegate ? delegationToolsets(choice.delegationSession(scope)) : [])];
  const names = scope.toolsets
    .filter((name) => canDelegate || !(delegationToolsetNames as readonly string[]).includes(name))
    .filter((name) => scope.depth === 0 || !choice.parentOnly.has(name));
  const tools = resolveToolsets(available, names);
  return scope.depth > 0 ? tools.filter((tool) => !tool.interactive) : tools;
}
