import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LegateError } from '../../src/errors.js';
import { defineTool } from '../../src/tools/tool.js';
import { builtinToolsets, resolveToolsets } from '../../src/tools/toolsets.js';

const names = (tools: { name: string }[]): string[] => tools.map((tool) => tool.name);

describe('toolsets', () => {
  it('ships file, terminal and web (web_search only with a search backend)', () => {
    const sets = builtinToolsets();
    expect(sets.map((set) => set.name)).toEqual(['file', 'terminal', 'web']);
    expect(names(resolveToolsets(sets, ['web']))).toEqual(['web_fetch']);
    expect(names(resolveToolsets(sets, ['file']))).toEqual(['read_file', 'write_file', 'edit_file', 'list_dir', 'search_files']);
    expect(names(resolveToolsets(sets, ['terminal', 'file', 'terminal']))).toEqual([
      'terminal',
      'read_file',
      'write_file',
      'edit_file',
      'list_dir',
      'search_files',
    ]);
  });

  it('names an unknown toolset and lists the known ones', () => {
    let caught: unknown;
    try {
      resolveToolsets(builtinToolsets(), ['file', 'web_search']);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LegateError);
    expect((caught as LegateError).code).toBe('config_invalid');
    expect(String(caught)).toBe('config_invalid: unknown toolset "web_search"; known toolsets: file, terminal, web');
  });

  it('refuses two toolsets that define the same tool name', () => {
    const clash = defineTool({ name: 'read_file', description: 'x', parameters: z.object({}), execute: async () => '' });
    expect(() => resolveToolsets([...builtinToolsets(), { name: 'mcp', tools: [clash] }], ['file', 'mcp'])).toThrow(
      'tool "read_file" is defined by both toolset "file" and "mcp"',
    );
  });
});
