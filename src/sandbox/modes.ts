import { LegateError } from '../errors.js';

/**
 * What tools may do, narrowest first:
 * - `read-only`: tools may read; no file tool and no command may write anything.
 * - `workspace-write` (the default): writes only under the working directory, a private temporary
 *   directory and `sandbox.writable_roots`.
 * - `danger-full-access`: no sandbox at all (legate's behaviour before sandboxing).
 * In the first two, commands have no network unless `sandbox.network: true`, and no tool can read
 * `$LEGATE_HOME` or the config file.
 */
export const sandboxModes = ['read-only', 'workspace-write', 'danger-full-access'] as const;
export type SandboxMode = (typeof sandboxModes)[number];

export const defaultSandboxMode: SandboxMode = 'workspace-write';

/** The mode named by `value` (a `--sandbox` flag); throws `config_invalid` naming it and the modes. */
export function parseSandboxMode(value: string, source = '--sandbox'): SandboxMode {
  if ((sandboxModes as readonly string[]).includes(value)) return value as SandboxMode;
  throw new LegateError('config_invalid', `${source}: unknown sandbox mode ${JSON.stringify(value)}; expected one of ${sandboxModes.join(', ')}`);
}

/** True when `mode` allows no more than `than`. */
export function isNarrowerOrEqual(mode: SandboxMode, than: SandboxMode): boolean {
  return sandboxModes.indexOf(mode) <= sandboxModes.indexOf(than);
}

/** The narrower of two modes. */
export function narrowest(a: SandboxMode, b: SandboxMode): SandboxMode {
  return isNarrowerOrEqual(a, b) ? a : b;
}

/**
 * The mode a child runs in: `requested` (the `sandbox` argument of a delegation call) or, without
 * one, its parent's; then capped by `cap` (its route's `sandbox`). A request wider than the
 * parent's mode throws `sandbox_wider` naming both modes.
 */
export function childSandboxMode(parent: SandboxMode, requested: SandboxMode | undefined, cap?: SandboxMode): SandboxMode {
  if (requested !== undefined && !isNarrowerOrEqual(requested, parent)) {
    const allowed = sandboxModes.slice(0, sandboxModes.indexOf(parent) + 1).join(', ');
    throw new LegateError(
      'sandbox_wider',
      `sandbox "${requested}" is wider than this agent's own "${parent}": a child gets the same mode or a narrower one (${allowed})`,
      { requested, parent },
    );
  }
  const mode = requested ?? parent;
  return cap === undefined ? mode : narrowest(mode, cap);
}
