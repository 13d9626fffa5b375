/** The styles the chat uses. Each returns its text unchanged when colours are off. */
export interface Palette {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  magenta(text: string): string;
}

const style =
  (open: number, close: number) =>
  (text: string): string =>
    `\x1b[${open}m${text}\x1b[${close}m`;
const plain = (text: string): string => text;

/**
 * Colours for `stream`: on for a TTY, off when it is not one or when `NO_COLOR` is set to anything
 * non-empty (https://no-color.org). `FORCE_COLOR` (non-empty, not `0`) turns them on regardless;
 * `FORCE_COLOR=0` turns them off.
 */
export function paletteFor(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv): Palette {
  const forced = env.FORCE_COLOR;
  const enabled = forced !== undefined && forced !== '' ? forced !== '0' : Boolean((stream as { isTTY?: boolean }).isTTY) && !env.NO_COLOR;
  return enabled ? colors : noColors;
}

export const colors: Palette = {
  enabled: true,
  bold: style(1, 22),
  dim: style(2, 22),
  red: style(31, 39),
  green: style(32, 39),
  yellow: style(33, 39),
  cyan: style(36, 39),
  magenta: style(35, 39),
};

export const noColors: Palette = { enabled: false, bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain, magenta: plain };
