import type { z } from 'zod';
import type { SandboxRequest } from '../sandbox/policy.js';

/**
 * The seam through which tools touch the outside world, so the same tool can run in-process, in a
 * worker, or against a fake in tests.
 */
export interface ToolIO {
  readFile(path: string): Promise<string>;
  writeFile(path: string, content: string): Promise<void>;
  /** Entries of a directory, directories suffixed with `/`. */
  listDir(path: string): Promise<string[]>;
  /** Follows symlinks. `links` (hard-link count) and `id` (device and inode) when the IO knows them. */
  stat(path: string): Promise<{ isFile: boolean; isDirectory: boolean; size: number; links?: number; id?: string } | undefined>;
  mkdirp(path: string): Promise<void>;
  /**
   * `path` with every symlink resolved; the part that does not exist yet is appended as is. An IO
   * without symlinks (a fake) may leave it out: the sandbox then takes paths as given.
   */
  realPath?(path: string): Promise<string>;
  /**
   * Run a shell command. Resolves with its exit code and combined output, whatever the command
   * does; rejects only when the sandbox refuses to run it at all (`sandbox_denied`). `escalate`:
   * run it outside the OS sandbox, once a human approved (an IO without a sandbox ignores it).
   */
  exec(
    command: string,
    options: { cwd: string; timeoutMs: number; signal: AbortSignal; escalate?: boolean },
  ): Promise<{
    exitCode: number | null;
    output: string;
    timedOut: boolean;
  }>;
  /**
   * Ask a human, through the sandbox's approval gate, about a call a tool's own policy answered
   * `ask` (`web_fetch` of a host outside `web.allowed_domains`, as `{kind: 'network', command}`).
   * Resolves when approved; rejects with `sandbox_denied` and the reason otherwise. An IO without a
   * sandbox (`danger-full-access`, a fake) has none: nobody to ask, the tool refuses.
   */
  approve?(request: SandboxRequest, reason: string, signal: AbortSignal): Promise<void>;
}

export interface ToolContext {
  /** Working directory that relative paths resolve against. */
  cwd: string;
  /** Aborted when the run is cancelled: a tool must stop promptly. */
  signal: AbortSignal;
  io: ToolIO;
  /** Id of the tool call being executed. */
  toolCallId: string;
  /** Progress while a tool waits, when the caller listens (an MCP client's progress notifications). */
  progress?: (done: number, total: number, message: string) => void;
}

/**
 * What `execute` may return: plain text, or text flagged as an error for the model to read, with
 * the bytes the call fetched from the web (`web_fetch`, `web_search`: counted in the task's usage).
 */
export type ToolOutput = string | { content: string; isError?: boolean; fetchedBytes?: number };

/**
 * A tool: a plain object built from a zod schema. `execute` receives arguments that already passed
 * the schema. It may throw; the executor turns that into an error result.
 */
export interface Tool<Schema extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  parameters: Schema;
  /**
   * The JSON Schema the model sees, when the tool comes with one (an MCP server's tool); else it
   * is derived from `parameters`, which then only needs to let the arguments through.
   */
  inputSchema?: Record<string, unknown>;
  /** Needs the user at the keyboard (prompts, confirmations): never given to children. */
  interactive?: boolean;
  execute(args: z.infer<Schema>, context: ToolContext): Promise<ToolOutput>;
}

/** Build a tool with its argument type inferred from the schema. */
export function defineTool<Schema extends z.ZodType>(tool: Tool<Schema>): Tool {
  return tool as unknown as Tool;
}

/** A named group of tools (`file`, `terminal`, `async_delegation`, an MCP server's tools…). */
export interface Toolset {
  name: string;
  tools: Tool[];
  /**
   * An MCP server's tools: the top-level agent gets them without naming them in `agent.toolsets`,
   * children too unless `delegation.inherit_mcp_toolsets` is false.
   */
  mcp?: boolean;
  /**
   * Bumped whenever `tools` is replaced in place (an MCP server announced a new tool list), so a
   * running agent knows to pick up the new list at its next model call.
   */
  revision?: number;
}
