import { describe, expect, it } from 'vitest';
import { executeToolCall } from '../../src/tools/execute.js';
import { toToolSpec } from '../../src/tools/tool-spec.js';
import { junkArguments, prng } from '../reliability/junk.js';
import { builtinTools, sandboxedIO, tempDir } from './tool-harness.js';

describe('junk arguments', () => {
  it('never throw: every call yields a result, an error result for anything invalid', async () => {
    const dir = await tempDir();
    const io = sandboxedIO(dir);
    const random = prng(20_240_615);
    const signal = new AbortController().signal;
    let errors = 0;
    let calls = 0;
    for (const [name, tool] of builtinTools) {
      const schema = toToolSpec(tool).parameters as Parameters<typeof junkArguments>[1];
      for (let i = 0; i < 250; i += 1) {
        // The fuzz suite's junk (one list of hostile values), without live task ids: these are not delegation tools.
        const { text: args } = junkArguments({ random, taskIds: () => [] }, schema);
        const result = await executeToolCall(builtinTools, { id: `junk_${i}`, name, arguments: args }, { cwd: dir, signal, io });
        calls += 1;
        expect(typeof result.content, `${name} ${args.slice(0, 80)}`).toBe('string');
        expect(typeof result.isError).toBe('boolean');
        expect(result.content.length).toBeLessThan(21_000);
        if (result.isError) {
          errors += 1;
          expect(result.content).toMatch(/^(invalid_arguments|tool_failed): /);
        }
      }
    }
    expect(calls).toBe(250 * builtinTools.size);
    expect(errors).toBeGreaterThan(calls / 3);
    expect(errors).toBeLessThan(calls);
  });
});
