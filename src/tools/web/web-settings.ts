/**
 * What the web tools are configured with (config.yaml's `web:` section, see src/config/schema.ts),
 * in the runtime's terms. Every field has a default (`defaultWebSettings`).
 */
export interface WebSettings {
  /** `web.max_chars`: characters of a page per `web_fetch` call (the rest is read with `offset`). */
  maxChars: number;
  /** `web.timeout_seconds`: a whole fetch (every hop, the body included) or search. */
  timeoutSeconds: number;
  /** `web.max_bytes`: bytes read of one response body; reading stops there. */
  maxBytes: number;
  /** `web.per_host_concurrency`: requests to one host at a time, across every agent of the runtime. */
  perHostConcurrency: number;
  /** `web.allow_hosts`: hosts that may resolve to loopback or private addresses (a local test server, an intranet wiki). */
  allowHosts: string[];
  /** `web.allowed_domains`: when not empty, other hosts need a human's approval (and are refused without one). */
  allowedDomains: string[];
  /** `web.blocked_domains`: never fetched. */
  blockedDomains: string[];
  /** `web.search`: the search backend; none: no `web_search` tool. */
  search?: SearchSettings;
}

/** A configured search backend. `apiKey` is never stored, logged or shown. */
export type SearchSettings = { provider: 'searxng'; url: string } | { provider: 'brave' | 'tavily'; apiKey: string; url?: string };

export const defaultWebSettings: WebSettings = {
  maxChars: 20_000,
  timeoutSeconds: 30,
  maxBytes: 5 * 1024 * 1024,
  perHostConcurrency: 2,
  allowHosts: [],
  allowedDomains: [],
  blockedDomains: [],
};

/** config.yaml's `web:` section as validated (src/config/schema.ts `webSchema`). */
export interface WebSectionInput {
  max_chars: number;
  timeout_seconds: number;
  max_bytes: number;
  per_host_concurrency: number;
  allow_hosts: string[];
  allowed_domains: string[];
  blocked_domains: string[];
  search?: { provider: 'searxng' | 'brave' | 'tavily'; url?: string | undefined; api_key?: string | undefined } | undefined;
}

/** The environment variable a hosted search backend's key is read from when `web.search.api_key` is absent. */
export const searchKeyVariables = { brave: 'BRAVE_API_KEY', tavily: 'TAVILY_API_KEY' } as const;

/**
 * The settings of a `web:` section. A hosted backend without a key (in `web.search.api_key` or its
 * environment variable) is no backend: `search` is left out, and `searchProblem` says what to set.
 */
export function webSettingsFrom(section: WebSectionInput, env: NodeJS.ProcessEnv): { settings: WebSettings; searchProblem?: string } {
  const settings: WebSettings = {
    maxChars: section.max_chars,
    timeoutSeconds: section.timeout_seconds,
    maxBytes: section.max_bytes,
    perHostConcurrency: section.per_host_concurrency,
    allowHosts: section.allow_hosts,
    allowedDomains: section.allowed_domains,
    blockedDomains: section.blocked_domains,
  };
  const search = section.search;
  if (!search) return { settings, searchProblem: 'no search backend configured (web.search)' };
  if (search.provider === 'searxng') return { settings: { ...settings, search: { provider: 'searxng', url: search.url ?? '' } } };
  const variable = searchKeyVariables[search.provider];
  const apiKey = search.api_key || env[variable] || '';
  if (!apiKey) return { settings, searchProblem: `web.search.provider is ${search.provider} but it has no key: set web.search.api_key or ${variable}` };
  return { settings: { ...settings, search: { provider: search.provider, apiKey, ...(search.url ? { url: search.url } : {}) } } };
}
