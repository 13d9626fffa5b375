import type { z } from 'zod';

/** One line per zod issue: `model.provider: expected one of "openai" | "anthropic", got "opnai"`. */
export function formatIssues(error: z.ZodError, input: unknown): string[] {
  return error.issues.flatMap((issue) => formatIssue(issue, input));
}

type Issue = z.ZodError['issues'][number];

function formatIssue(issue: Issue, input: unknown): string[] {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((key) => (path ? `${path}.${key}` : key));
    return [`unknown key ${keys.map((key) => `"${key}"`).join(', ')}`];
  }
  // A union (an MCP server is stdio or HTTP): report the branch the value was meant for, the one it
  // fails least; when no branch stands out, say what the choices are.
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const branches = [...issue.errors].sort((a, b) => a.length - b.length);
    if (branches[0]!.length > 0 && (branches.length === 1 || branches[0]!.length < branches[1]!.length)) {
      return branches[0]!.flatMap((inner) => formatIssue({ ...inner, path: [...issue.path, ...inner.path] } as Issue, input));
    }
  }
  const received = valueAt(input, issue.path);
  const got = received === undefined ? 'nothing' : show(received);
  return [`${path || '(top level)'}: ${expectation(issue, path, received)} (got ${got})`];
}

/** What was expected, in words: URL fields say "a URL string", the MCP server union names its two shapes. */
function expectation(issue: Issue, path: string, received: unknown): string {
  const urlField = /(^|\.)(url|base_url)$/.test(path);
  if (urlField && (issue.code === 'invalid_type' || issue.code === 'invalid_format'))
    return received === undefined
      ? 'expected a URL string'
      : typeof received === 'string'
        ? 'expected a URL such as https://example.com/v1'
        : 'expected a URL string';
  if (issue.code === 'invalid_union' && /^mcp_servers\.[^.]+$/.test(path)) {
    return 'expected a server: either {command, args, env} (stdio) or {url, headers} (Streamable HTTP), not both';
  }
  // zod's `expected string, received number`: the value follows as (got …), and an article reads better.
  return issue.message
    .replace(/^Invalid input: /, '')
    .replace(/, received \w+$/, '')
    .replace(/^expected (string|number|boolean|array|object|record)$/, (_, type: string) =>
      type === 'array' ? 'expected an array' : `expected a ${type === 'record' || type === 'object' ? 'mapping' : type}`,
    );
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = input;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    // too deep for JSON.stringify: said so instead
    text = Array.isArray(value) ? '[…too deeply nested to show…]' : '{…too deeply nested to show…}';
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
