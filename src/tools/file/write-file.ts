import { dirname } from 'node:path';
import { z } from 'zod';
import { resolvePath } from '../paths.js';
import { defineTool } from '../tool.js';

export const writeFileTool = defineTool({
  name: 'write_file',
  description: [
    'Write content to a file, replacing it entirely if it exists and creating it (and any missing',
    'parent directories) if it does not. To change part of an existing file, prefer edit_file.',
  ].join(' '),
  parameters: z.object({
    path: z.string().min(1).describe('File to write, absolute or relative to the working directory.'),
    content: z.string().describe('The complete new content of the file.'),
  }),
  async execute({ path, content }, context) {
    const file = resolvePath(path, context.cwd);
    const existing = await context.io.stat(file);
    if (existing?.isDirectory) throw new Error(`${file} is a directory, not a file`);
    await context.io.mkdirp(dirname(file));
    await context.io.writeFile(file, content);
    const bytes = Buffer.byteLength(content, 'utf8');
    return `${existing ? 'overwrote' : 'created'} ${file} (${bytes} bytes written)`;
  },
});
