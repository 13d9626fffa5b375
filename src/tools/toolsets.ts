import { LegateError } from '../errors.js';
import { editFileTool } from './file/edit-file.js';
import { listDirTool } from './file/list-dir.js';
import { readFileTool } from './file/read-file.js';
import { searchFilesTool } from './file/search-files.js';
import { writeFileTool } from './file/write-file.js';
import { terminalTool } from './terminal.js';
import type { Tool, Toolset } from './tool.js';
import type { WebSettings } from './web/web-settings.js';
import { webToolset } from './web/web-toolset.js';

/**
 * The toolsets legate ships with: `file` (read, write, edit, list, search), `terminal` and `web`
 * (`web_fetch`, and `web_search` when `web.search` names a backend), the latter over `web`
 * (default: the `web:` section's defaults, no search backend).
 */
export function builtinToolsets(web?: WebSettings): Toolset[] {
  return [
    { name: 'file', tools: [readFileTool, writeFileTool, editFileTool, listDirTool, searchFilesTool] },
    { name: 'terminal', tools: [terminalTool] },
    webToolset(web),
  ];
}

/**
 * The tools of the named toolsets, in the order named. Throws `config_invalid` naming an unknown
 * toolset (and listing the known ones), or a tool name that two chosen toolsets both define.
 */
export function resolveToolsets(all: Toolset[], names: string[]): Tool[] {
  const byName = new Map(all.map((toolset) => [toolset.name, toolset]));
  const chosen = new Map<string, { tool: Tool; toolset: string }>();
  for (const name of new Set(names)) {
    const toolset = byName.get(name);
    if (!toolset) {
      const known = [...byName.keys()].join(', ') || '(none)';
      throw new LegateError('config_invalid', `unknown toolset ${JSON.stringify(name)}; known toolsets: ${known}`, { toolset: name });
    }
    for (const tool of toolset.tools) {
      const previous = chosen.get(tool.name);
      if (previous && previous.tool !== tool) {
        throw new LegateError(
          'config_invalid',
          `tool ${JSON.stringify(tool.name)} is defined by both toolset ${JSON.stringify(previous.toolset)} and ${JSON.stringify(name)}`,
          { tool: tool.name },
        );
      }
      chosen.set(tool.name, { tool, toolset: name });
    }
  }
  return [...chosen.values()].map((entry) => entry.tool);
}
