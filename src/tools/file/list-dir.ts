import { z } from 'zod';
import { resolvePath } from '../paths.js';
import { defineTool } from '../tool.js';

const MAX_ENTRIES = 1_000;

export const listDirTool = defineTool({
  name: 'list_dir',
  description: [
    'List the entries of a directory (not recursive), sorted by name, one per line.',
    'Directories end with "/". Use search_files to search file contents.',
  ].join(' '),
  parameters: z.object({
    path: z.string().min(1).default('.').describe('Directory to list, absolute or relative to the working directory. Default ".".'),
  }),
  async execute({ path }, context) {
    const dir = resolvePath(path, context.cwd);
    let entries: string[];
    try {
      entries = await context.io.listDir(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new Error(`directory not found: ${dir}`);
      if (code === 'ENOTDIR') throw new Error(`${dir} is not a directory; use read_file to read it`);
      throw error;
    }
    if (entries.length === 0) return `${dir} is empty`;
    const shown = entries.slice(0, MAX_ENTRIES);
    const more = entries.length > MAX_ENTRIES ? `\n[... ${entries.length - MAX_ENTRIES} more entries not shown]` : '';
    return `${dir} (${entries.length} entries)\n${shown.join('\n')}${more}`;
  },
});
