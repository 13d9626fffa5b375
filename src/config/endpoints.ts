import type { RequestOptions } from '../agent/loop.js';
import { LegateError } from '../errors.js';
import type { PoolStrategy } from '../provider/credential-pool.js';
import type { WireRuleOverrides } from '../provider/reasoning-rules.js';
import { providerEntry, type WireName } from '../provider/registry.js';
import type { ReasoningEffort } from '../provider/types.js';
import type { LoadedConfig } from './load.js';
import type { AcpRouteSection, ConfigFile } from './schema.js';

/** Everything needed to call one model on one endpoint. `keys` are secrets: never log them. */
export interface EndpointSpec {
  provider: WireName;
  baseUrl: string;
  model: string;
  keys: string[];
  keyStrategy: PoolStrategy;
  /** Output token limit per call: the layer's `max_tokens`, else the inherited one, else the provider's default for the model (undefined: none sent). */
  maxTokens: number | undefined;
  /** The context window, tokens: the layer's `context_window`, else the inherited one (undefined: unknown). */
  contextWindow: number | undefined;
  timeoutMs: number;
  maxRetries: number;
  /** The layer's `reasoning_effort`, else the inherited one (undefined: none asked). */
  reasoningEffort: ReasoningEffort | undefined;
  /** `model.prompt_cache` (every layer). */
  promptCache: boolean;
  /** The layer's `reasoning_replay` / `token_limit_param` (not inherited: they belong to an endpoint). */
  rules: WireRuleOverrides;
}

export interface ResolvedEndpoints {
  parent: EndpointSpec;
  /** Children without a route. */
  child: EndpointSpec;
  routes: Map<string, EndpointSpec>;
  /** Routes whose children are ACP agents run as subprocesses (`provider: acp`), by name. */
  acpRoutes: Map<string, AcpRouteSection>;
}

const defaultBaseUrl = (provider: WireName): string => providerEntry(provider).defaultBaseUrl;

interface EndpointFields {
  provider?: WireName | undefined;
  base_url?: string | undefined;
  api_key?: string | undefined;
  api_keys?: string[] | undefined;
  reasoning_replay?: WireRuleOverrides['replay'] | undefined;
  token_limit_param?: WireRuleOverrides['tokenParam'] | undefined;
  reasoning_effort?: ReasoningEffort | undefined;
}

function rulesOf(fields: EndpointFields): WireRuleOverrides {
  return {
    ...(fields.reasoning_replay ? { replay: fields.reasoning_replay } : {}),
    ...(fields.token_limit_param ? { tokenParam: fields.token_limit_param } : {}),
  };
}

/**
 * Resolve the parent's endpoint, the children's default and each named route. A child layer only
 * inherits the parent's keys when it talks to the same provider and endpoint: a key is never sent
 * to an endpoint it was not configured for.
 */
export function resolveEndpoints(loaded: LoadedConfig): ResolvedEndpoints {
  const { config, file } = loaded;
  const where = file ?? 'the environment';
  const model = config.model;
  const provider = model.provider ?? 'openai';
  const parentKeys = keysOf(model);
  if (parentKeys.length === 0) throw missingKey(loaded, provider);
  const parent: EndpointSpec = {
    provider,
    baseUrl: trimSlash(model.base_url ?? defaultBaseUrl(provider)),
    model: model.name,
    keys: parentKeys,
    keyStrategy: model.key_strategy,
    maxTokens: model.max_tokens ?? providerEntry(provider).defaultMaxTokens(model.name),
    contextWindow: model.context_window,
    timeoutMs: model.request_timeout_seconds * 1000,
    maxRetries: model.max_retries,
    reasoningEffort: model.reasoning_effort,
    promptCache: model.prompt_cache,
    rules: rulesOf(model),
  };
  const layer = (
    base: EndpointSpec,
    fields: EndpointFields & { max_tokens?: number | undefined; context_window?: number | undefined },
    modelName: string | undefined,
    path: string,
    maxTokensAbove: number | undefined,
  ): EndpointSpec => {
    const layerProvider = fields.provider ?? base.provider;
    const baseUrl = trimSlash(fields.base_url ?? (fields.provider && fields.provider !== base.provider ? defaultBaseUrl(layerProvider) : base.baseUrl));
    const ownKeys = keysOf(fields);
    const sameEndpoint = layerProvider === parent.provider && baseUrl === parent.baseUrl;
    if (ownKeys.length === 0 && !sameEndpoint && !(base !== parent && baseUrl === base.baseUrl && layerProvider === base.provider)) {
      throw new LegateError(
        'config_missing_key',
        `${where}: ${path} sends children to ${layerProvider} at ${baseUrl}` +
          `, which is not the parent's endpoint, so the parent's key is not sent there${unsetNote(loaded, path)}` +
          `; set ${path}.api_key (use "none" for a local server without auth)`,
        { key: `${path}.api_key`, file },
      );
    }
    const keys = ownKeys.length > 0 ? ownKeys : baseUrl === parent.baseUrl && layerProvider === parent.provider ? parent.keys : base.keys;
    const layerModel = modelName || base.model;
    return {
      ...base,
      provider: layerProvider,
      baseUrl,
      model: layerModel,
      // A configured limit is inherited; a default one is the layer model's own default.
      maxTokens: fields.max_tokens ?? maxTokensAbove ?? providerEntry(layerProvider).defaultMaxTokens(layerModel),
      contextWindow: fields.context_window ?? base.contextWindow,
      keys,
      reasoningEffort: fields.reasoning_effort ?? base.reasoningEffort,
      // An endpoint's rules stay with it: a layer on another endpoint starts from `auto`.
      rules: { ...(sameEndpoint || (baseUrl === base.baseUrl && layerProvider === base.provider) ? base.rules : {}), ...rulesOf(fields) },
    };
  };
  const delegation = config.delegation;
  const child = layer(parent, delegation, delegation.model, 'delegation', model.max_tokens);
  const routes = new Map<string, EndpointSpec>();
  const acpRoutes = new Map<string, AcpRouteSection>();
  for (const [name, route] of Object.entries(delegation.routes)) {
    if (route.provider === 'acp') acpRoutes.set(name, route);
    else routes.set(name, layer(child, route, route.model, `delegation.routes.${name}`, delegation.max_tokens ?? model.max_tokens));
  }
  return { parent, child, routes, acpRoutes };
}

function keysOf(fields: EndpointFields): string[] {
  const keys = [...(fields.api_keys ?? []), ...(fields.api_key ? [fields.api_key] : [])];
  return [...new Set(keys.map((key) => key.trim()).filter((key) => key.length > 0))];
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function missingKey(loaded: LoadedConfig, provider: WireName): LegateError {
  const envName = providerEntry(provider).apiKeyEnv;
  const because = unsetNote(loaded, 'model');
  const configFile = loaded.file ?? `${loaded.home}/config.yaml`;
  return new LegateError(
    'config_missing_key',
    `no API key configured${because}. Set model.api_key in ${configFile} or export ${envName} (see README "Configuration"). ` +
      '`legate demo` runs offline without a key.',
  );
}

/** ` (delegation.routes.x.api_key in FILE refers to ${VAR}, which is not set)` when the keys of `section` came from unset variables. */
function unsetNote(loaded: LoadedConfig, section: string): string {
  const keyPaths = [...loaded.unset.keys()].filter((path) => path === `${section}.api_key` || path.startsWith(`${section}.api_keys[`));
  const names = [...new Set(keyPaths.flatMap((path) => loaded.unset.get(path) ?? []))];
  if (names.length === 0) return '';
  const keys = [...new Set(keyPaths.map((path) => path.replace(/\[\d+\]$/, '')))].join(' and ');
  return ` (${keys} in ${loaded.file} refers to ${names.map((name) => `\${${name}}`).join(', ')}, which ${names.length === 1 ? 'is' : 'are'} not set)`;
}

export type { ConfigFile };

/**
 * What every model request of a run on `endpoint` carries besides the conversation: its reasoning
 * effort, prompt caching, its rule overrides, and the cache key of the task tree (one per session:
 * the top-level agent and every task below it share it, so their common prefix is routed alike).
 */
export function requestOptionsFor(endpoint: EndpointSpec, sessionId: string): RequestOptions {
  return {
    ...(endpoint.reasoningEffort ? { reasoningEffort: endpoint.reasoningEffort } : {}),
    promptCache: endpoint.promptCache,
    cacheKey: `legate-${sessionId}`,
    rules: endpoint.rules,
  };
}
