/**
 * Translate a file glob to an anchored RegExp. Supports `*` (within one path segment), `**` (any
 * number of segments), `?`, `[...]` and `{a,b}`.
 */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  let braceDepth = 0;
  for (let i = 0; i < glob.length; i += 1) {
    const char = glob[i]!;
    if (char === '*') {
      if (glob[i + 1] === '*') {
        const slashAfter = glob[i + 2] === '/';
        source += slashAfter ? '(?:.*/)?' : '.*';
        i += slashAfter ? 2 : 1;
      } else {
        source += '[^/]*';
      }
    } else if (char === '?') {
      source += '[^/]';
    } else if (char === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close === -1) {
        source += '\\[';
      } else {
        const body = glob
          .slice(i + 1, close)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        source += `[${body}]`;
        i = close;
      }
    } else if (char === '{') {
      braceDepth += 1;
      source += '(?:';
    } else if (char === '}' && braceDepth > 0) {
      braceDepth -= 1;
      source += ')';
    } else if (char === ',' && braceDepth > 0) {
      source += '|';
    } else {
      source += char.replace(/[.+^$()|\\{}]/g, '\\$&');
    }
  }
  source += ')'.repeat(braceDepth);
  return new RegExp(`^${source}$`);
}

/**
 * A predicate over `/`-separated relative paths for `glob`. A glob without `/` tests the base
 * name (`*.ts` matches `src/a.ts`); one with `/` tests the whole path. Throws naming the glob when
 * it cannot be compiled.
 */
export function compileGlob(glob: string): (relativePath: string) => boolean {
  let pattern: RegExp;
  try {
    pattern = globToRegExp(glob);
  } catch (error) {
    throw new Error(`invalid glob ${JSON.stringify(glob)}: ${(error as Error).message}`);
  }
  const wholePath = glob.includes('/');
  return (relativePath) => pattern.test(wholePath ? relativePath : relativePath.slice(relativePath.lastIndexOf('/') + 1));
}
