import { describe, expect, test } from 'vitest';
import { colors, noColors, paletteFor } from '../../src/cli/colors.js';
import { type Key, LineEditor } from '../../src/cli/tui/line-editor.js';
import { clip, displayWidth, splitAt, stripAnsi } from '../../src/cli/tui/screen-text.js';

/** Keys as `emitKeypressEvents` reports them: plain strings are typed, objects are named keys. */
function press(editor: LineEditor, ...keys: (string | Key)[]): ReturnType<LineEditor['handle']>[] {
  return keys.map((key) => (typeof key === 'string' ? editor.handle(key, {}) : editor.handle(undefined, key)));
}

describe('the chat line editor', () => {
  test('typing, moving and deleting, Emacs-style', () => {
    const editor = new LineEditor();
    press(editor, ...'hello world');
    press(editor, { name: 'left' }, { name: 'left' }, { name: 'backspace' }, 'X');
    expect(editor.text).toBe('hello woXld');
    expect(editor.split()).toEqual({ before: 'hello woX', after: 'ld' });
    press(editor, { name: 'w', ctrl: true });
    expect(editor.text).toBe('hello ld');
    press(editor, { name: 'a', ctrl: true }, { name: 'delete' }, { name: 'k', ctrl: true });
    expect(editor.text).toBe('');
  });

  test('Enter submits and clears; history comes back with Up; Ctrl-C and Ctrl-D are reported', () => {
    const editor = new LineEditor();
    press(editor, ...'first');
    expect(press(editor, { name: 'return' })).toEqual([{ type: 'submit', line: 'first' }]);
    expect(editor.text).toBe('');
    press(editor, ...'draft');
    press(editor, { name: 'up' });
    expect(editor.text).toBe('first');
    press(editor, { name: 'down' });
    expect(editor.text).toBe('draft');
    expect(press(editor, { name: 'c', ctrl: true })).toEqual([{ type: 'interrupt' }]);
    press(editor, { name: 'home' });
    expect(press(editor, { name: 'd', ctrl: true })).toEqual([{ type: 'edit' }]);
    expect(editor.text).toBe('raft');
    editor.clear();
    expect(press(editor, { name: 'd', ctrl: true })).toEqual([{ type: 'eof' }]);
  });

  test('inside a bracketed paste, Enter is a newline of the message', () => {
    const editor = new LineEditor();
    const actions = press(editor, { name: 'paste-start' }, 'a', { name: 'return' }, 'b', { name: 'paste-end' });
    expect(actions.some((action) => action.type === 'submit')).toBe(false);
    expect(press(editor, { name: 'return' })).toEqual([{ type: 'submit', line: 'a\nb' }]);
  });

  test('control characters are not inserted; wide characters are one step of the cursor', () => {
    const editor = new LineEditor();
    press(editor, '\x1b', 'a', '日', '本');
    press(editor, { name: 'left' });
    expect(editor.split()).toEqual({ before: 'a日', after: '本' });
  });
});

describe('screen text', () => {
  test('width ignores styles and counts wide characters twice', () => {
    expect(displayWidth('\x1b[1m\x1b[32myou›\x1b[39m\x1b[22m 日本')).toBe(9);
    expect(stripAnsi('\x1b[2mdim\x1b[22m')).toBe('dim');
  });

  test('split at a width, at a space when asked; clip marks the cut', () => {
    expect(splitAt('alpha beta gamma', 12, true)).toEqual({ head: 'alpha beta', tail: 'gamma' });
    expect(splitAt('alphabetagamma', 5, true)).toEqual({ head: 'alpha', tail: 'betagamma' });
    expect(clip('abcdefgh', 5)).toBe('abcd…');
    expect(clip('abc', 5)).toBe('abc');
  });

  test('colours: on for a TTY, off for NO_COLOR or a pipe; FORCE_COLOR wins', () => {
    const tty = { isTTY: true } as unknown as NodeJS.WritableStream;
    const pipe = {} as NodeJS.WritableStream;
    expect(paletteFor(tty, {})).toBe(colors);
    expect(paletteFor(tty, { NO_COLOR: '1' })).toBe(noColors);
    expect(paletteFor(tty, { NO_COLOR: '' })).toBe(colors);
    expect(paletteFor(pipe, {})).toBe(noColors);
    expect(paletteFor(pipe, { FORCE_COLOR: '1' })).toBe(colors);
    expect(paletteFor(tty, { FORCE_COLOR: '0' })).toBe(noColors);
  });
});
