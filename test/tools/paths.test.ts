import { homedir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { displayPath, resolvePath } from '../../src/tools/paths.js';

describe('resolvePath', () => {
  it('resolves relative paths against cwd and keeps absolute ones', () => {
    expect(resolvePath('a/b.txt', '/work/x')).toBe('/work/x/a/b.txt');
    expect(resolvePath('../c', '/work/x')).toBe('/work/c');
    expect(resolvePath('/etc/hosts', '/work/x')).toBe('/etc/hosts');
    expect(resolvePath('.', '/work/x')).toBe('/work/x');
  });

  it('expands ~', () => {
    expect(resolvePath('~', '/work')).toBe(homedir());
    expect(resolvePath('~/notes.md', '/work')).toBe(`${homedir()}/notes.md`);
    expect(resolvePath('~other', '/work')).toBe('/work/~other');
  });
});

describe('displayPath', () => {
  it('is relative inside cwd and absolute outside it', () => {
    expect(displayPath('/work/x/src/a.ts', '/work/x')).toBe('src/a.ts');
    expect(displayPath('/etc/hosts', '/work/x')).toBe('/etc/hosts');
  });
});
