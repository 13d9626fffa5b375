import { join } from 'node:path';
import { z } from 'zod';
import { displayPath, resolvePath } from '../paths.js';
import { defineTool, type ToolContext } from '../tool.js';
import { compileGlob } from './glob-pattern.js';
import { type LineMatch, lineMatcher } from './line-matcher.js';

const DEFAULT_MAX_RESULTS = 100;
const SKIPPED_DIRS = new Set(['node_modules', '.git']);
const MAX_FILE_BYTES = 5_000_000;
const MAX_LINE_CHARS = 300;

export const searchFilesTool = defineTool({
  name: 'search_files',
  description: [
    'Search file contents under a directory for a JavaScript regular expression, line by line.',
    'Returns "path:line: text" for each matching line, paths relative to the working directory.',
    'Skips node_modules, .git, binary files and files over 5 MB. The regex is case-sensitive',
    '(use a character class like [Ee]rror for either case). Narrow the search with glob.',
  ].join(' '),
  parameters: z.object({
    pattern: z.string().min(1).describe('JavaScript regular expression (no slashes or flags), e.g. "function\\s+main".'),
    path: z.string().min(1).default('.').describe('Directory (or single file) to search. Default ".".'),
    glob: z
      .string()
      .min(1)
      .optional()
      .describe('Only search files matching this glob, e.g. "*.ts" (base name) or "src/**/*.test.ts" (path relative to `path`).'),
    max_results: z.number().int().min(1).max(1_000).optional().describe(`Stop after this many matching lines. Default ${DEFAULT_MAX_RESULTS}.`),
  }),
  async execute({ pattern, path, glob, max_results: maxResults = DEFAULT_MAX_RESULTS }, context) {
    try {
      new RegExp(pattern);
    } catch (error) {
      throw new Error(`invalid regular expression ${JSON.stringify(pattern)}: ${(error as Error).message}`);
    }
    const include = glob === undefined ? () => true : compileGlob(glob);
    const root = resolvePath(path, context.cwd);
    const info = await context.io.stat(root);
    if (!info) throw new Error(`path not found: ${root}`);

    const files = info.isDirectory ? walkFiles(root, context) : single(root);
    const matches: string[] = [];
    let filesSearched = 0;
    for await (const { file, relative } of files) {
      if (!include(relative)) continue;
      const text = await readText(file, context);
      if (text === undefined) continue;
      filesSearched += 1;
      // On a worker thread: a pattern that backtracks without end cannot stall the event loop.
      let found: LineMatch[];
      try {
        found = await lineMatcher.match(pattern, text, maxResults - matches.length, context.signal);
      } catch (error) {
        if (context.signal.aborted) throw error;
        throw new Error(`pattern ${JSON.stringify(pattern)} on ${displayPath(file, context.cwd)}: ${(error as Error).message}`);
      }
      for (const [index, line] of found) {
        const shown = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
        matches.push(`${displayPath(file, context.cwd)}:${index + 1}: ${shown}`);
        if (matches.length >= maxResults) {
          matches.push(`[stopped after ${maxResults} matches; narrow the pattern or glob, or raise max_results]`);
          return matches.join('\n');
        }
      }
    }
    if (matches.length === 0) {
      const scope = glob === undefined ? '' : ` matching glob ${JSON.stringify(glob)}`;
      return `no matches for ${JSON.stringify(pattern)} in ${filesSearched} files${scope} under ${root}`;
    }
    return matches.join('\n');
  },
});

interface FoundFile {
  file: string;
  /** Path relative to the search root, `/`-separated, for glob matching. */
  relative: string;
}

async function* single(file: string): AsyncGenerator<FoundFile> {
  yield { file, relative: file.slice(file.lastIndexOf('/') + 1) };
}

/** Files under `root`, depth first in name order, not following symlinked directories. */
async function* walkFiles(root: string, context: ToolContext): AsyncGenerator<FoundFile> {
  const pending: string[] = [''];
  while (pending.length > 0) {
    if (context.signal.aborted) throw new Error('search cancelled');
    const relativeDir = pending.pop()!;
    let entries: string[];
    try {
      entries = await context.io.listDir(join(root, relativeDir));
    } catch {
      continue; // unreadable directory
    }
    const subdirs: string[] = [];
    for (const entry of entries) {
      if (entry.endsWith('/')) {
        const name = entry.slice(0, -1);
        if (!SKIPPED_DIRS.has(name)) subdirs.push(relativeDir === '' ? name : `${relativeDir}/${name}`);
        continue;
      }
      const relative = relativeDir === '' ? entry : `${relativeDir}/${entry}`;
      yield { file: join(root, relative), relative };
    }
    pending.push(...subdirs.reverse());
  }
}

/** The file's text, or undefined for what should not be searched (binary, huge, unreadable, not a file). */
async function readText(file: string, context: ToolContext): Promise<string | undefined> {
  try {
    const info = await context.io.stat(file);
    if (!info?.isFile || info.size > MAX_FILE_BYTES) return undefined;
    const text = await context.io.readFile(file);
    return text.includes('\u0000') ? undefined : text;
  } catch {
    // unreadable or not text: skipped
    return undefined;
  }
}
