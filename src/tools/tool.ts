import type { z } from 'zod';

/**
 * The seam through which tools touch the outside world, so the same tool can run in-process, in a
 * worker, or against a fake in tests.
 */
export interface ToolIO {
  readFile(path: string): Promise<string>;
  writeFile(path: string, content: string): Promise<void>;
  /** Entries of a directory, directories suffixed with `/`. */
  listDir(path: string): Promise<string[]>;
  stat(path: string): Promise<{ isFile: boolean; isDirectory: boolean; size: number } | undefined>;
  mkdirp(path: string): Promise<void>;
  /** Run a shell command. Resolves (never rejects) with its exit code and combined output. */
  exec(command: string, options: { cwd: string; timeoutMs: number; signal: AbortSignal }): Promise<{
    exitCode: number | null;
    output: string;
    timedOut: boolean;
  }>;
}

export interface ToolContext {
  /** Working directory that relative paths resolve against. */
  cwd: string;
  /** Aborted when the run is cancelled: a tool must stop promptly. */
  signal: AbortSignal;
  io: ToolIO;
  /** Id of the tool call being executed. */
  toolCallId: string;
}

/** What `execute` may return: plain text, or text flagged as an error for the model to read. */
export type ToolOutput = string | { content: string; isError?: boolean };

/**
 * A tool: a plain object built from a zod schema. `execute` receives arguments that already passed
 * the schema. It may throw; the executor turns that into an error result.
 */
export interface Tool<Schema extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  parameters: Schema;
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
}
