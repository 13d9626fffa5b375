import { describe, expect, it } from 'vitest';
import { capOutput, excerpt } from '../../src/tools/output-cap.js';

describe('capOutput', () => {
  it('returns text within the cap unchanged', () => {
    expect(capOutput('hello', 10)).toBe('hello');
    expect(capOutput('x'.repeat(20_000))).toBe('x'.repeat(20_000));
  });

  it('keeps head and tail around a marker counting what was omitted', () => {
    const text = `HEAD${'m'.repeat(100_000)}TAIL`;
    const capped = capOutput(text, 1_000);
    expect(capped.startsWith('HEAD')).toBe(true);
    expect(capped.endsWith('TAIL')).toBe(true);
    expect(capped).toContain(`[... ${text.length - 1_000} characters omitted ...]`);
    expect(capped.length).toBeLessThan(1_100);
  });

  it('does not split a surrogate pair', () => {
    const capped = capOutput('😀'.repeat(1_000), 101);
    expect(capped).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    expect(capped).not.toMatch(/(?<![\ud800-\udbff])[\udc00-\udfff]/);
  });
});

describe('excerpt', () => {
  it('puts text on one line and caps it, saying how long it was', () => {
    expect(excerpt('a\n  b')).toBe('a b');
    expect(excerpt('y'.repeat(500), 10)).toBe(`${'y'.repeat(10)}… (500 characters)`);
  });
});
