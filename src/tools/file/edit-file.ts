import { z } from 'zod';
import { excerpt } from '../output-cap.js';
import { resolvePath } from '../paths.js';
import { defineTool } from '../tool.js';

export const editFileTool = defineTool({
  name: 'edit_file',
  description: [
    'Replace an exact string in a file. old_string must match the file character for character,',
    'including whitespace and indentation (without the line-number prefixes read_file shows), and',
    'must occur exactly once unless replace_all is true: include enough surrounding lines to make',
    'it unique. To create a file or rewrite it wholesale, use write_file.',
  ].join(' '),
  parameters: z.object({
    path: z.string().min(1).describe('File to edit, absolute or relative to the working directory.'),
    old_string: z.string().min(1).describe('The exact text to find. Must not be empty.'),
    new_string: z.string().describe('The text to put in its place (may be empty to delete).'),
    replace_all: z.boolean().optional().describe('Replace every occurrence instead of requiring exactly one. Default false.'),
  }),
  async execute({ path, old_string: oldString, new_string: newString, replace_all: replaceAll = false }, context) {
    const file = resolvePath(path, context.cwd);
    const info = await context.io.stat(file);
    if (!info) throw new Error(`file not found: ${file}`);
    if (!info.isFile) throw new Error(`${file} is not a regular file`);
    if (oldString === newString) throw new Error('old_string and new_string are identical; nothing to change');

    const text = await context.io.readFile(file);
    const pieces = text.split(oldString);
    const count = pieces.length - 1;
    const quoted = JSON.stringify(excerpt(oldString, 200));
    if (count === 0) {
      const hint = notFoundHint(text, oldString);
      throw new Error(`old_string not found in ${file}${hint}: ${quoted}`);
    }
    if (count > 1 && !replaceAll) {
      throw new Error(`old_string occurs ${count} times in ${file}; add surrounding context to make it unique, or pass replace_all: true: ${quoted}`);
    }
    await context.io.writeFile(file, pieces.join(newString));
    const line = text.slice(0, text.indexOf(oldString)).split('\n').length;
    const what = count === 1 ? '1 occurrence' : `${count} occurrences`;
    return `edited ${file}: replaced ${what} (first at line ${line})`;
  },
});

/** Why an old_string a model copied from read_file may not match, when that can be told. */
function notFoundHint(text: string, oldString: string): string {
  if (/^\s*\d+\t/m.test(oldString)) return ' (it seems to include read_file line-number prefixes; leave them out)';
  if (text.includes('\r\n') && oldString.includes('\n') && !oldString.includes('\r\n')) {
    return ' (the file has CRLF line endings; use \\r\\n in old_string)';
  }
  return '';
}
