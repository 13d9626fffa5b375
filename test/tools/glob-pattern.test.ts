import { describe, expect, it } from 'vitest';
import { compileGlob } from '../../src/tools/file/glob-pattern.js';

describe('compileGlob', () => {
  it('matches base names when the glob has no slash', () => {
    const ts = compileGlob('*.ts');
    expect(ts('a.ts')).toBe(true);
    expect(ts('src/deep/a.ts')).toBe(true);
    expect(ts('a.tsx')).toBe(false);
    expect(compileGlob('*.{ts,md}')('docs/x.md')).toBe(true);
    expect(compileGlob('file?.txt')('file1.txt')).toBe(true);
    expect(compileGlob('[ab].txt')('c.txt')).toBe(false);
  });

  it('matches whole relative paths when the glob has a slash', () => {
    const tests = compileGlob('src/**/*.test.ts');
    expect(tests('src/a.test.ts')).toBe(true);
    expect(tests('src/x/y/a.test.ts')).toBe(true);
    expect(tests('lib/a.test.ts')).toBe(false);
    expect(compileGlob('src/*.ts')('src/x/a.ts')).toBe(false);
  });

  it('treats regex characters literally', () => {
    expect(compileGlob('a+b(1).txt')('a+b(1).txt')).toBe(true);
    expect(compileGlob('a.txt')('abtxt')).toBe(false);
  });

  it('names a glob it cannot compile', () => {
    expect(() => compileGlob('[z-a].txt')).toThrow(/invalid glob "\[z-a\]\.txt"/);
  });
});
