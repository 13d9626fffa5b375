import { z } from 'zod';
import type { ToolSpec } from '../provider/types.js';
import type { Tool } from './tool.js';

/** The bounds zod writes for every `.int()`; they say nothing to a model and cost tokens. */
const SAFE_INTEGER_BOUNDS: Record<string, number> = {
  minimum: Number.MIN_SAFE_INTEGER,
  maximum: Number.MAX_SAFE_INTEGER,
};

/**
 * A tool as the model sees it. The parameters are the tool's own `inputSchema` when it has one,
 * else the JSON Schema of its zod schema as input (fields with defaults are optional); without
 * `$schema`, and always a `type: "object"` schema with `properties`, which is what OpenAI and
 * Anthropic require. Throws naming the tool when its schema does not describe an object.
 */
export function toToolSpec(tool: Tool): ToolSpec {
  // Every child builds the specs of all its tools: convert each schema once (specs are never mutated).
  const key: object = tool.inputSchema ?? tool.parameters;
  let parameters = parameterCache.get(key);
  if (!parameters) {
    parameters = toParameters(tool);
    parameterCache.set(key, parameters);
  }
  return { name: tool.name, description: tool.description, parameters };
}

const parameterCache = new WeakMap<object, Record<string, unknown>>();

function toParameters(tool: Tool): Record<string, unknown> {
  const schema = tool.inputSchema
    ? { ...tool.inputSchema }
    : (z.toJSONSchema(tool.parameters, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>);
  delete schema['$schema'];
  if (schema['type'] !== 'object') {
    throw new Error(`tool ${JSON.stringify(tool.name)}: parameters must be a z.object(...) schema, got JSON Schema type ${JSON.stringify(schema['type'])}`);
  }
  const parameters = stripSafeIntegerBounds(schema) as Record<string, unknown>;
  parameters['properties'] ??= {};
  return parameters;
}

function stripSafeIntegerBounds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripSafeIntegerBounds);
  if (value === null || typeof value !== 'object') return value;
  const result: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (SAFE_INTEGER_BOUNDS[key] === child) continue;
    result[key] = stripSafeIntegerBounds(child);
  }
  return result;
}
