import { decide, type SandboxSettings } from './policy.js';

/**
 * The macOS Seatbelt profile (for `sandbox-exec -p PROFILE bash -c COMMAND`) equivalent to the
 * bubblewrap sandbox: everything allowed but writes outside the writable roots (all writes in
 * `read-only`), reads of the protected paths, and the network unless the policy allows it.
 * Generated and unit-tested as text; not yet run on a Mac. Unlike bubblewrap's PID namespace it
 * does not kill background processes a command leaves behind.
 */
export function seatbeltProfile(settings: SandboxSettings, command: string): string {
  const quote = (path: string): string => JSON.stringify(path);
  const lines = ['(version 1)', '(allow default)', '(deny file-write*)', '(allow file-write* (literal "/dev/null") (regex #"^/dev/tty"))'];
  if (settings.mode === 'workspace-write') {
    for (const root of settings.writableRoots) lines.push(`(allow file-write* (subpath ${quote(root)}))`);
  }
  for (const entry of settings.protectedPaths) {
    const filter = entry.kind === 'directory' ? `(subpath ${quote(entry.path)})` : `(literal ${quote(entry.path)})`;
    lines.push(`(deny file-read* file-write* ${filter})`);
  }
  if (decide(settings, { kind: 'network', command }).verdict !== 'allow') lines.push('(deny network*)');
  return lines.join('\n');
}

/** The `sandbox-exec` argument list that runs `command` under `settings`. */
export function seatbeltArgs(settings: SandboxSettings, command: string): string[] {
  return ['-p', seatbeltProfile(settings, command), 'bash', '-c', command];
}
