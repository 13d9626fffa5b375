import type { Toolset } from '../tool.js';
import { sharedHostLimiter } from './host-limiter.js';
import { webFetchTool } from './web-fetch.js';
import { webSearchTool } from './web-search.js';
import { defaultWebSettings, type WebSettings } from './web-settings.js';

/**
 * The `web` toolset: `web_fetch`, and `web_search` when a search backend is configured (without
 * one the model is not offered a tool that cannot work). `limiter` (default: the process's, for
 * `web.per_host_concurrency`) is shared by every agent the toolset is given to, parent and children.
 */
export function webToolset(settings: WebSettings = defaultWebSettings, limiter = sharedHostLimiter(settings.perHostConcurrency)): Toolset {
  const tools = [webFetchTool(settings, limiter)];
  if (settings.search) tools.push(webSearchTool(settings, settings.search, limiter));
  return { name: 'web', tools };
}
