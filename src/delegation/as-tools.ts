import { errorMessage, LegateError } from '../errors.js';
import { excerpt } from '../tools/output-cap.js';
import type { Tool, Toolset } from '../tools/tool.js';
import { asyncDelegationOperations, delegationOperations, type Operation } from './operations.js';
import type { DelegationSession } from './session.js';

/** Longest refusal message: one quoting a huge value (a 1 MB task_id) stays readable. */
const MAX_ERROR_CHARS = 2000;

/**
 * An operation as an agent tool: JSON text results. A refusal is an error result reading
 * `code: message` (`task_not_found: no task "t_1" in this session`), the same shape the executor
 * gives bad arguments and unknown tools, for agents and MCP clients alike.
 */
export function operationTool(operation: Operation, session: DelegationSession): Tool {
  return {
    name: operation.name,
    description: operation.description,
    parameters: operation.parameters,
    async execute(args, context) {
      try {
        return JSON.stringify(await operation.run(args, session, { signal: context.signal, progress: context.progress, toolCallId: context.toolCallId }));
      } catch (error) {
        if (!(error instanceof LegateError)) throw error;
        return { content: excerpt(errorMessage(error), MAX_ERROR_CHARS), isError: true };
      }
    },
  };
}

export const delegationToolsetNames = ['delegation', 'async_delegation'] as const;

/** The `delegation` and `async_delegation` toolsets bound to one session. */
export function delegationToolsets(session: DelegationSession): Toolset[] {
  return [
    { name: 'delegation', tools: delegationOperations.map((operation) => operationTool(operation, session)) },
    { name: 'async_delegation', tools: asyncDelegationOperations.map((operation) => operationTool(operation, session)) },
  ];
}
