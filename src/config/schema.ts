import { z } from 'zod';
import { poolStrategies } from '../provider/credential-pool.js';
import { reasoningReplays, tokenLimitParams } from '../provider/reasoning-rules.js';
import { wireNames } from '../provider/registry.js';
import { reasoningEfforts } from '../provider/types.js';
import { defaultSandboxMode, sandboxModes } from '../sandbox/modes.js';

/** The config.yaml schema. Unknown keys are errors (strict objects), so typos never pass silently. */

const endpointFields = {
  provider: z.enum(wireNames).optional(),
  base_url: z.string().url().optional(),
  api_key: z.string().optional(),
  api_keys: z.array(z.string()).optional(),
  /** How reasoning goes back to this endpoint (`auto`: by host and model, src/provider/reasoning-rules.ts). */
  reasoning_replay: z.enum(reasoningReplays).optional(),
  /** `max_tokens` or `max_completion_tokens` (`auto`: OpenAI's reasoning models get the latter). */
  token_limit_param: z.enum(tokenLimitParams).optional(),
  /** Ask for reasoning: OpenAI `reasoning_effort`, Anthropic `thinking` (absent: the model's default; children inherit it). */
  reasoning_effort: z.enum(reasoningEfforts).optional(),
};

export const modelSchema = z.strictObject({
  ...endpointFields,
  name: z.string().min(1),
  /** The model's context window, tokens (absent: learned from the provider's context-length error). */
  context_window: z.number().int().positive().optional(),
  key_strategy: z.enum(poolStrategies).default('fill_first'),
  max_tokens: z.number().int().positive().optional(),
  /** Idle timeout: no bytes for this long (waiting for the reply or between chunks) is a stall, retried. */
  request_timeout_seconds: z.number().positive().default(120),
  max_retries: z.number().int().min(0).max(20).default(3),
  /** Anthropic prompt caching (`cache_control` on the stable prefix and the last message). */
  prompt_cache: z.boolean().default(true),
});

export const modelRouteSchema = z.strictObject({
  ...endpointFields,
  model: z.string().min(1).optional(),
  max_tokens: z.number().int().positive().optional(),
  /** The model's context window, tokens (absent: learned from the provider's context-length error). */
  context_window: z.number().int().positive().optional(),
  /** Children on this route run in this mode when it is narrower than their parent's (a cap). */
  sandbox: z.enum(sandboxModes).optional(),
  /** Where children on this route work when the call does not say (default: `delegation.isolation`). */
  isolation: z.enum(['none', 'worktree']).optional(),
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
  /** Where children on this route work when the call does not say (default: `delegation.isolation`). */
  isolation: z.enum(['none', 'worktree']).optional(),
});

export const routeSchema = z.discriminatedUnion('provider', [acpRouteSchema, modelRouteSchema]);

/** A task tree's budget (`budget-policy.ts`): tokens (input, cached or not, and output), USD at `prices`, wall seconds. */
export const budgetSchema = z.strictObject({
  tokens: z.number().int().positive().optional(),
  cost_usd: z.number().positive().optional(),
  seconds: z.number().positive().optional(),
});

export const delegationSchema = z.strictObject({
  ...endpointFields,
  model: z.string().optional(),
  max_tokens: z.number().int().positive().optional(),
  /** The model's context window, tokens (absent: learned from the provider's context-length error). */
  context_window: z.number().int().positive().optional(),
  max_spawn_depth: z.number().int().min(0).max(10).default(1),
  max_concurrent_children: z.number().int().min(1).default(10),
  max_iterations: z.number().int().min(1).default(50),
  child_timeout_seconds: z.number().min(0).default(0),
  routes: z.record(z.string(), routeSchema).default({}),
  inherit_mcp_toolsets: z.boolean().default(true),
  /** Each child's budget when its delegation call sets none (capped by what its parent has left). */
  budget: budgetSchema.optional(),
  /** `worktree`: each child works in a git worktree of its own (issue 28); `none`: in the parent's tree. */
  isolation: z.enum(['none', 'worktree']).default('none'),
  /** A child summary longer than this reaches the parent as head and tail with a marker; the store keeps it whole. */
  max_summary_chars: z.number().int().min(1000).default(12_000),
});

export const agentSchema = z.strictObject({
  max_iterations: z.number().int().min(1).default(90),
  toolsets: z.array(z.string()).default(['file', 'terminal', 'web', 'delegation', 'async_delegation']),
  system_prompt: z.string().optional(),
  sandbox: z.enum(sandboxModes).default(defaultSandboxMode),
  /**
   * A call outside the sandbox mode: `never` refused (the refusal is the tool result), `on-request`
   * asked of a human (a background child's task waits `input_required`). Absent: the command's
   * default (`on-request` in chat, `never` in run, mcp and worker).
   */
  approval: z.enum(['never', 'on-request']).optional(),
  /** A request left unanswered this long becomes a denial; 0 = wait as long as it takes. */
  approval_timeout_seconds: z.number().min(0).default(0),
  /** A user prompt (run, chat, acp) longer than this many bytes (UTF-8) is refused, not sent. Default 1 MiB. */
  max_prompt_bytes: z.number().int().min(1).default(1_048_576),
  /** The budget of a whole run or chat session: the top-level agent and every task below it. */
  budget: budgetSchema.optional(),
});

export type ApprovalMode = 'never' | 'on-request';

export const sandboxSchema = z.strictObject({
  /** More directories `workspace-write` may write (absolute, `~/…`, or relative to the working directory). */
  writable_roots: z.array(z.string().min(1)).default([]),
  /** Commands may use the network in `read-only` and `workspace-write`. */
  network: z.boolean().default(false),
  /** More paths no tool may read in `read-only` and `workspace-write`, beside the default credential paths (~/.ssh, ~/.aws, …). */
  deny_read: z.array(z.string().min(1)).default([]),
  /** Default credential paths to leave readable on purpose (e.g. `~/.npmrc` for a child that publishes). */
  allow_read: z.array(z.string().min(1)).default([]),
});

export const tasksSchema = z.strictObject({
  prune_after_days: z.number().min(0).default(14),
  /** Times a task whose process died is resumed before it fails instead (a task that kills its process would otherwise be resumed forever). */
  max_resumes: z.number().int().min(0).default(3),
  /**
   * Shared mode: every command keeps its tasks in the Redis at this URL (`redis://[:password@]host:port/db`)
   * instead of `$LEGATE_HOME/state.db`. `LEGATE_REDIS_URL` sets it when this is absent.
   */
  redis_url: z.string().min(1).optional(),
  /** The key prefix of this deployment in that Redis (letters, digits, `_ . - { }`). */
  redis_prefix: z.string().min(1).default('legate'),
  /**
   * How long a task's lease (and, in shared mode, its BullMQ job lock) lasts without renewal: a
   * process that dies or is cut off loses its tasks after this long, and another takes them over.
   * Shorter: faster takeover; longer: a slow or briefly cut-off worker keeps its tasks.
   */
  lease_seconds: z.number().min(0.5).max(3600).default(10),
});

/**
 * USD per million tokens. Cache prices default from the input price: reads at 10% of it (OpenAI's
 * and Anthropic's cached-input rate), writes at 125% (Anthropic's 5-minute cache write).
 */
export const priceSchema = z.strictObject({
  input_per_million: z.number().min(0),
  output_per_million: z.number().min(0),
  cache_read_per_million: z.number().min(0).optional(),
  cache_write_per_million: z.number().min(0).optional(),
});

export const mcpServerSchema = z.union([
  z.strictObject({
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).default({}),
  }),
  z.strictObject({ url: z.string().url(), headers: z.record(z.string(), z.string()).default({}) }),
]);

/** Context compaction of model-backed children (see src/agent/context/). */
export const compactionSchema = z.strictObject({
  /** Fraction of (window - reserve) past which a call's context is compacted first. */
  threshold: z.number().gt(0).max(1).default(0.8),
  reserve_tokens: z.number().int().min(0).default(8192),
  keep_tool_tokens: z.number().int().min(0).default(20_000),
  keep_recent_tokens: z.number().int().min(1).default(20_000),
  /** The model that writes the hand-off (default: the task's own). */
  model: z.string().min(1).optional(),
});

/**
 * A search backend for `web_search`: `searxng` (its JSON API at `url`, self-hostable), `brave` or
 * `tavily` (hosted; the key from `api_key`, which may be `${VAR}`, else `BRAVE_API_KEY` /
 * `TAVILY_API_KEY` in the environment; `url` overrides the API's address).
 */
export const webSearchSchema = z
  .strictObject({
    provider: z.enum(['searxng', 'brave', 'tavily']),
    url: z.string().url().optional(),
    api_key: z.string().optional(),
  })
  .refine((search) => search.provider !== 'searxng' || search.url !== undefined, {
    message: 'provider searxng needs url: the address of the SearXNG instance (its JSON API is GET {url}/search?q=…&format=json)',
    path: ['url'],
  });

/** The web tools (`web_fetch`, `web_search`): limits and containment (see src/tools/web/). */
export const webSchema = z.strictObject({
  /** Characters of a page per `web_fetch` call (at most the tool output cap, 20,000). */
  max_chars: z.number().int().min(500).max(20_000).default(20_000),
  timeout_seconds: z.number().positive().default(30),
  /** Bytes of a response body read, at most. */
  max_bytes: z
    .number()
    .int()
    .positive()
    .default(5 * 1024 * 1024),
  /** Web requests to one host at a time, across every agent of the process. */
  per_host_concurrency: z.number().int().min(1).default(2),
  /** Hosts that may resolve to loopback, private or link-local addresses (never reached otherwise). */
  allow_hosts: z.array(z.string().min(1)).default([]),
  /** When set, other hosts (subdomains match) need a human's approval in read-only and workspace-write, and are refused otherwise. */
  allowed_domains: z.array(z.string().min(1)).default([]),
  /** Hosts (subdomains match) never fetched. */
  blocked_domains: z.array(z.string().min(1)).default([]),
  search: webSearchSchema.optional(),
});

/**
 * OpenTelemetry traces (see README "Tracing"). The standard `OTEL_*` variables win over these
 * settings; tracing is off unless an endpoint is set here or in `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`.
 */
export const telemetrySchema = z.strictObject({
  /** The OTLP/HTTP base URL (`/v1/traces` is appended), as `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  endpoint: z.string().url().optional(),
  protocol: z.enum(['http/protobuf', 'http/json']).optional(),
  /** Sent with every export (an API key of the tracing backend), as `OTEL_EXPORTER_OTLP_HEADERS`. */
  headers: z.record(z.string(), z.string()).default({}),
  service_name: z.string().min(1).optional(),
  /** Prompt and completion text on the spans, as `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`. */
  capture_message_content: z.boolean().default(false),
});

export const configSchema = z.strictObject({
  model: modelSchema,
  delegation: delegationSchema.default(delegationSchema.parse({})),
  agent: agentSchema.default(agentSchema.parse({})),
  tasks: tasksSchema.default(tasksSchema.parse({})),
  sandbox: sandboxSchema.default(sandboxSchema.parse({})),
  compaction: compactionSchema.default(compactionSchema.parse({})),
  prices: z.record(z.string(), priceSchema).default({}),
  mcp_servers: z.record(z.string(), mcpServerSchema).default({}),
  web: webSchema.default(webSchema.parse({})),
  telemetry: telemetrySchema.optional(),
});

export type ConfigFile = z.infer<typeof configSchema>;
export type CompactionSection = z.infer<typeof compactionSchema>;
export type WebSection = z.infer<typeof webSchema>;
export type TelemetrySection = z.infer<typeof telemetrySchema>;
/** Settings as written (in `config.yaml`, or as the object given to `loadConfig({ config })`): defaults not yet applied. */
export type ConfigInput = z.input<typeof configSchema>;
export type PriceSection = z.infer<typeof priceSchema>;
export type AcpRouteSection = z.infer<typeof acpRouteSchema>;
