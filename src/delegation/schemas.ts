import { z } from 'zod';
import { sandboxModes } from '../sandbox/modes.js';
import { taskStatuses } from '../tasks/status.js';

/**
 * Parameters of the delegation tools. One definition serves the agent tools and the MCP server.
 */

const goal = z
  .string()
  .trim()
  .min(1, 'goal must be a non-empty string')
  .describe('What the child must achieve, stated completely: it sees nothing of your conversation.');
const context = z
  .string()
  .optional()
  .describe('Everything the child needs to know: file paths, constraints, what was tried, what form the answer should take.');
const route = z.string().optional().describe('Name of a route from delegation.routes in config.yaml (for example a cheaper model).');
const sandbox = z
  .enum(sandboxModes)
  .optional()
  .describe(
    'Run the child in this sandbox mode: your own (the default) or a narrower one (read-only < workspace-write < danger-full-access). A wider one is refused.',
  );
/** A positive number of `unit`, its error naming the field. */
const limit = (field: string, unit: string, integer = false) => {
  const number = z.number({ error: `budget.${field} must be a number of ${unit}` });
  return (integer ? number.int(`budget.${field} must be a whole number of ${unit}`) : number)
    .positive(`budget.${field} must be a positive number of ${unit}`)
    .optional();
};
export const budgetParameter = z
  .strictObject({
    tokens: limit('tokens', 'tokens', true).describe('Input (cached or not) plus output tokens of the child and all it spawns.'),
    cost_usd: limit('cost_usd', 'US dollars').describe('USD of the child and all it spawns, at the configured prices.'),
    seconds: limit('seconds', 'seconds').describe('Wall time of the child, waits included; aborts its call in flight.'),
  })
  .optional()
  .describe('The most the child (and everything it spawns) may spend; never more than what is left of yours. When it runs out the child stops.');
const budget = budgetParameter;
const isolation = z
  .enum(['none', 'worktree'])
  .optional()
  .describe(
    'worktree: the child works in a git worktree of its own (branch legate/<task_id>) and its changes are committed there; none: in your tree. Default: delegation.isolation.',
  );
const taskId = z.string().min(1).describe('The task_id returned by delegate_task_async.');

export const delegateTaskParameters = z
  .object({
    goal: goal.optional(),
    context,
    route,
    sandbox,
    budget,
    isolation,
    tasks: z
      .array(z.object({ goal, context, route, sandbox, budget, isolation }))
      .min(1, 'tasks must hold at least one task')
      .optional()
      .describe('A batch of independent tasks to run side by side; use instead of goal/context.'),
  })
  .refine((args) => (args.goal === undefined) !== (args.tasks === undefined), {
    message: 'give either goal (one task) or tasks (a batch), not both and not neither',
  });

export const delegateTaskAsyncParameters = z.object({
  goal,
  context,
  route,
  sandbox,
  budget,
  isolation,
  toolsets: z.array(z.string()).optional().describe("Toolsets the child may use (default: yours), e.g. ['file']."),
});

export const checkTaskParameters = z.object({
  task_id: taskId,
  offset: z
    .number()
    .int('offset must be a whole number of characters')
    .min(0, 'offset must be a number of characters >= 0')
    .optional()
    .describe("Read the task's stored summary from this character on (a summary cut in a result names the offset to use)."),
});

export const steerTaskParameters = z.object({
  task_id: taskId,
  message: z.string().trim().min(1, 'message must be a non-empty string').describe('Guidance for the child, delivered at its next model call.'),
});

export const collectTaskParameters = z
  .object({
    task_id: taskId.optional(),
    task_ids: z
      .array(z.string().min(1))
      .min(1, 'task_ids must hold at least one task_id')
      .optional()
      .describe('Several task_ids to collect in one call (instead of task_id); results come back in this order.'),
    wait: z
      .enum(['all', 'any'])
      .default('all')
      .describe('With task_ids: "all" (default) waits until every task ended; "any" returns as soon as one has, listing the others with their status.'),
    timeout: z
      .number()
      .min(0, 'timeout must be a number of seconds >= 0')
      .default(300)
      .describe('Seconds to wait (default 300). On timeout the tasks keep running and their partial output is returned.'),
  })
  .superRefine((args, context) => {
    if ((args.task_id === undefined) === (args.task_ids === undefined)) {
      context.addIssue({ code: 'custom', message: 'give either task_id (one task) or task_ids (several), not both and not neither' });
    }
    const seen = new Set<string>();
    for (const [index, id] of (args.task_ids ?? []).entries()) {
      if (seen.has(id)) context.addIssue({ code: 'custom', path: ['task_ids', index], message: `task "${id}" is listed more than once` });
      seen.add(id);
    }
  });

export const cancelTaskParameters = z.object({ task_id: taskId });

export const listTasksParameters = z.object({
  status: z
    .enum(taskStatuses as [string, ...string[]])
    .optional()
    .describe('Only tasks with this status.'),
});
