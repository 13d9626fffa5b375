import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from '../../src/tools/tool.js';
import { toToolSpec } from '../../src/tools/tool-spec.js';
import { builtinToolsets } from '../../src/tools/toolsets.js';

describe('toToolSpec', () => {
  it('turns every built-in tool into a plain object schema with described fields', () => {
    for (const tool of builtinToolsets().flatMap((set) => set.tools)) {
      const spec = toToolSpec(tool);
      expect(spec.name).toBe(tool.name);
      expect(spec.description.length).toBeGreaterThan(40);
      expect(spec.parameters['type']).toBe('object');
      expect(spec.parameters).not.toHaveProperty('$schema');
      const properties = spec.parameters['properties'] as Record<string, { description?: string }>;
      for (const [field, schema] of Object.entries(properties)) {
        expect(schema.description, `${tool.name}.${field}`).toBeTruthy();
      }
      expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
    }
  });

  it('requires only fields without defaults and drops zod safe-integer noise', () => {
    const read = builtinToolsets()[0]!.tools.find((tool) => tool.name === 'read_file')!;
    const spec = toToolSpec(read);
    expect(spec.parameters['required']).toEqual(['path']);
    const offset = (spec.parameters['properties'] as Record<string, Record<string, unknown>>)['offset']!;
    expect(offset).toEqual({ type: 'integer', minimum: 1, description: expect.any(String) });

    const terminal = toToolSpec(builtinToolsets()[1]!.tools[0]!);
    expect(terminal.parameters['required']).toEqual(['command']);
  });

  it('gives an empty object schema properties', () => {
    const none = defineTool({ name: 'ping', description: 'Ping.', parameters: z.object({}), execute: async () => 'pong' });
    expect(toToolSpec(none).parameters).toMatchObject({ type: 'object', properties: {} });
  });

  it('names a tool whose schema is not an object', () => {
    const bad = defineTool({ name: 'bad', description: 'x', parameters: z.string(), execute: async () => '' });
    expect(() => toToolSpec(bad)).toThrow(/tool "bad": parameters must be a z\.object/);
  });
});
