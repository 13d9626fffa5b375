import type { z } from 'zod';
import type { DelegationSession } from './session.js';

export interface OperationContext {
  signal: AbortSignal;
  /** Progress while a blocking operation waits (MCP progress notifications). */
  progress?: (done: number, total: number, message: string) => void;
  /** Id of the tool call running the operation (absent for an MCP client's call). */
  toolCallId?: string;
}

/** One delegation tool: schema + behaviour, shared by the agent toolsets and the MCP server. */
export interface Operation<Schema extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  parameters: Schema;
  run(args: z.infer<Schema>, session: DelegationSession, context: OperationContext): Promise<Record<string, unknown>>;
}

export const define = <Schema extends z.ZodType>(operation: Operation<Schema>): Operation => operation as unknown as Operation;
