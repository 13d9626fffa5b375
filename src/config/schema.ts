import { z } from 'zod';

/** The config.yaml schema. Unknown keys are errors (strict objects), so typos never pass silently. */

export const providerNames = ['openai', 'anthropic'] as const;
export const keyStrategies = ['fill_first', 'round_robin', 'least_used', 'random'] as const;

const endpointFields = {
  provider: z.enum(providerNames).optional(),
  base_url: z.string().url().optional(),
  api_key: z.string().optional(),
  api_keys: z.array(z.string()).optional(),
};

export const modelSchema = z.strictObject({
  ...endpointFields,
  name: z.string().min(1),
  key_strategy: z.enum(keyStrategies).default('fill_first'),
  max_tokens: z.number().int().positive().optional(),
  request_timeout_seconds: z.number().positive().default(600),
  max_retries: z.number().int().min(0).max(20).default(3),
});

export const modelRouteSchema = z.strictObject({
  ...endpointFields,
  model: z.string().min(1).optional(),
});

/**
 * A route to an ACP agent (Claude Code, Codex, Gemini CLI… through their ACP adapters) instead of
 * a model: the child runs as that agent's subprocess. Operator configuration only: the model picks
 * the route by name and never sees the command.
 */
export const acpRouteSchema = z.strictObject({
  provider: z.literal('acp'),
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  /** Answer the agent's permission requests with "allow" (default: reject). */
  allow_permissions: z.boolean().default(false),
});

export const routeSchema = z.discriminatedUnion('provider', [acpRouteSchema, modelRouteSchema]);

export const delegationSchema = z.strictObject({
  ...endpointFields,
  model: z.string().optional(),
  max_spawn_depth: z.number().int().min(0).max(10).default(1),
  max_concurrent_children: z.number().int().min(1).default(10),
  max_iterations: z.number().int().min(1).default(50),
  child_timeout_seconds: z.number().min(0).default(0),
  routes: z.record(z.string(), routeSchema).default({}),
  inherit_mcp_toolsets: z.boolean().default(true),
});

export const agentSchema = z.strictObject({
  max_iterations: z.number().int().min(1).default(90),
  toolsets: z.array(z.string()).default(['file', 'terminal', 'delegation', 'async_delegation']),
  system_prompt: z.string().optional(),
});

export const tasksSchema = z.strictObject({
  prune_after_days: z.number().min(0).default(14),
});

export const priceSchema = z.strictObject({
  input_per_million: z.number().min(0),
  output_per_million: z.number().min(0),
});

export const mcpServerSchema = z.union([
  z.strictObject({
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).default({}),
  }),
  z.strictObject({ url: z.string().url(), headers: z.record(z.string(), z.string()).default({}) }),
]);

export const configSchema = z.strictObject({
  model: modelSchema,
  delegation: delegationSchema.default(delegationSchema.parse({})),
  agent: agentSchema.default(agentSchema.parse({})),
  tasks: tasksSchema.default(tasksSchema.parse({})),
  prices: z.record(z.string(), priceSchema).default({}),
  mcp_servers: z.record(z.string(), mcpServerSchema).default({}),
});

export type ConfigFile = z.infer<typeof configSchema>;
export type ModelSection = z.infer<typeof modelSchema>;
export type DelegationSection = z.infer<typeof delegationSchema>;
export type RouteSection = z.infer<typeof routeSchema>;
export type AcpRouteSection = z.infer<typeof acpRouteSchema>;
