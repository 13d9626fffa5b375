import { z } from 'zod';
import { DEFAULT_MAX_OUTPUT_CHARS } from '../output-cap.js';
import { resolvePath } from '../paths.js';
import { defineTool } from '../tool.js';

const DEFAULT_LIMIT = 2_000;
const MAX_LINE_CHARS = 2_000;
const MAX_FILE_BYTES = 20_000_000;
/** A page stops short of the executor's output cap, so paging never loses lines in the middle. */
const MAX_PAGE_CHARS = DEFAULT_MAX_OUTPUT_CHARS - 1_000;

export const readFileTool = defineTool({
  name: 'read_file',
  description: [
    'Read a text file. Each line is prefixed with its 1-based line number and a tab ("   12\\t");',
    'the prefix is not part of the file, so leave it out of edit_file strings.',
    `Returns at most ${DEFAULT_LIMIT} lines (and about ${MAX_PAGE_CHARS} characters) per call; when`,
    'there is more, the result ends with the offset to pass to read the next page.',
    `Lines longer than ${MAX_LINE_CHARS} characters are truncated.`,
  ].join(' '),
  parameters: z.object({
    path: z.string().min(1).describe('File to read, absolute or relative to the working directory.'),
    offset: z.number().int().min(1).optional().describe('1-based line number to start reading at. Default 1.'),
    limit: z.number().int().min(1).optional().describe(`Maximum number of lines to return. Default ${DEFAULT_LIMIT}.`),
  }),
  async execute({ path, offset = 1, limit = DEFAULT_LIMIT }, context) {
    const file = resolvePath(path, context.cwd);
    const info = await context.io.stat(file);
    if (!info) throw new Error(`file not found: ${file}`);
    if (info.isDirectory) throw new Error(`${file} is a directory; use list_dir to see its entries`);
    if (info.size > MAX_FILE_BYTES) {
      throw new Error(`${file} is ${info.size} bytes, too large to read (limit ${MAX_FILE_BYTES}); search it with search_files or the terminal`);
    }
    const text = await context.io.readFile(file);
    if (text.includes('\u0000')) throw new Error(`${file} looks like a binary file (it contains NUL bytes)`);
    if (text === '') return `(${file} is empty)`;

    const lines = text.split(/\r?\n/);
    if (lines.at(-1) === '') lines.pop(); // a trailing newline ends the last line; it is not another one
    if (offset > lines.length) {
      throw new Error(`offset ${offset} is past the end of ${file}, which has ${lines.length} lines`);
    }
    const last = Math.min(lines.length, offset - 1 + limit);
    const width = String(last).length;
    const numbered: string[] = [];
    let chars = 0;
    let next = offset;
    while (next <= last) {
      const line = lines[next - 1]!;
      const shown = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}… [line truncated, ${line.length} characters]` : line;
      const entry = `${String(next).padStart(width)}\t${shown}`;
      if (numbered.length > 0 && chars + entry.length + 1 > MAX_PAGE_CHARS) break;
      numbered.push(entry);
      chars += entry.length + 1;
      next += 1;
    }
    if (next <= lines.length) {
      numbered.push(`[showing lines ${offset}-${next - 1} of ${lines.length}; pass offset=${next} to read more]`);
    }
    return numbered.join('\n');
  },
});
