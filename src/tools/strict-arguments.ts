/**
 * Tool argument objects are strict: an argument the tool's schema does not name is an error, not
 * silently dropped (a `budget` the model believes it set must not pass unnoticed). Read from the
 * JSON Schema the model is shown (`toToolSpec`), so it is the same check for every tool and over
 * MCP. An object schema with `additionalProperties` (a record, a loose object) takes any key; a
 * tool that brings its own `inputSchema` (an MCP server's) is strict only where that schema says
 * `additionalProperties: false`, as JSON Schema reads it.
 */

/** One argument the schema does not know: where it is (`tasks.0.budjet`) and the names it knows there. */
export interface UnknownArgument {
  path: string;
  known: string[];
}

type JsonSchema = Record<string, unknown>;

/** Every key of `input` that its schema does not name, depth first. `strictByDefault`: an object schema without `additionalProperties` is closed. */
export function unknownArguments(schema: JsonSchema, input: unknown, strictByDefault: boolean): UnknownArgument[] {
  const found: UnknownArgument[] = [];
  walk(schema, input, [], strictByDefault, found);
  return found;
}

function walk(schema: JsonSchema, value: unknown, path: string[], strict: boolean, found: UnknownArgument[]): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    const items = schema['items'];
    if (isSchema(items)) value.forEach((item, index) => walk(items, item, [...path, String(index)], strict, found));
    return;
  }
  const properties = schema['properties'];
  if (!isSchema(properties)) return;
  const open = strict ? schema['additionalProperties'] !== undefined && schema['additionalProperties'] !== false : schema['additionalProperties'] !== false;
  const known = Object.keys(properties);
  for (const [key, child] of Object.entries(value)) {
    const childSchema = properties[key];
    if (isSchema(childSchema)) walk(childSchema, child, [...path, key], strict, found);
    else if (!Object.hasOwn(properties, key) && !open) found.push({ path: [...path, key].join('.'), known });
  }
}

function isSchema(value: unknown): value is JsonSchema {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `unknown argument "budjet" (known: goal, context, route)`, for the error result. */
export function describeUnknown(argument: UnknownArgument): string {
  return `unknown argument ${JSON.stringify(argument.path)} (known: ${argument.known.join(', ') || 'none'})`;
}
