import { join } from 'node:path';
import type { ToolIO } from '../tools/tool.js';
import { type ApprovalGate, enforce, refuseApprovals } from './approval-gate.js';
import { osSandboxStatus } from './availability.js';
import { bubblewrapArgs, shellCommandLine } from './bubblewrap.js';
import { decide, type OsSandboxStatus, type SandboxRequest, type SandboxSettings } from './policy.js';
import { seatbeltArgs } from './seatbelt.js';

export interface SandboxedIOOptions {
  settings: SandboxSettings;
  /** Where `ask` decisions go; default: refused, the refusal naming the path or command and the mode. */
  gate?: ApprovalGate;
  /** The OS sandbox probe (tests pass an unavailable one). */
  osSandbox?: () => OsSandboxStatus;
  /** Called before each sandboxed command (creates the private temporary directory). */
  prepare?: () => void;
}

/** Files looked at, at most, when searching a protected directory for another name of a file. */
const MAX_ALIAS_SCAN = 2_000;

/**
 * `inner` with the sandbox of `settings` enforced at the seam, so every tool built on it is
 * contained without checks of its own. File operations resolve the real path first (symlinks,
 * `..`, `~`, `/proc/self/root/…`), ask the policy, and then act on that real path; a file with
 * several hard links is matched by inode against the protected files, and writing through it is
 * refused. `exec` runs the command inside bubblewrap (Linux) or Seatbelt (macOS) and rejects with
 * `sandbox_denied` when the policy refuses it (no OS sandbox here, a hidden directory). In
 * `danger-full-access` it returns `inner` itself.
 */
export function createSandboxedIO(inner: ToolIO, options: SandboxedIOOptions): ToolIO {
  const { settings } = options;
  if (settings.mode === 'danger-full-access') return inner;
  const gate = options.gate ?? refuseApprovals;
  const status = options.osSandbox ?? (() => osSandboxStatus());

  const realPath = async (path: string): Promise<string> => (inner.realPath ? inner.realPath(path) : path);

  /** Another name of the file `id` among the protected paths, if any. */
  const protectedAlias = async (id: string): Promise<string | undefined> => {
    let budget = MAX_ALIAS_SCAN;
    const pending = settings.protectedPaths.filter((entry) => entry.present).map((entry) => entry.path);
    while (pending.length > 0 && budget-- > 0) {
      const path = pending.pop()!;
      const info = await inner.stat(path).catch(() => undefined); // a path gone since it was listed is no match
      if (info?.isFile && info.id === id) return path;
      if (!info?.isDirectory) continue;
      const entries = await inner.listDir(path).catch(() => [] as string[]);
      pending.push(...entries.map((entry) => join(path, entry.replace(/\/$/, ''))));
    }
    return undefined;
  };

  /** The real path of `path`, once the policy (and, for `ask`, the gate) let `kind` go ahead. */
  const check = async (kind: 'read' | 'write', path: string): Promise<string> => {
    const real = await realPath(path);
    const info = await inner.stat(real).catch(() => undefined); // not there yet (a new file): the policy decides on the path alone
    const request: SandboxRequest & { kind: 'read' | 'write' } = { kind, path: real };
    if (info?.links !== undefined && info.links > 1) {
      request.links = info.links;
      // Only a file can have other names (a directory cannot be hard-linked, and its own `..` and
      // subdirectories count as links): the scan could never match a directory, so it is skipped.
      const alias = info.id === undefined || !info.isFile ? undefined : await protectedAlias(info.id);
      if (alias !== undefined) request.sameFileAs = alias;
    }
    await enforce(decide(settings, request), request, settings.mode, gate);
    return real;
  };

  return {
    readFile: async (path) => inner.readFile(await check('read', path)),
    writeFile: async (path, content) => inner.writeFile(await check('write', path), content),
    listDir: async (path) => inner.listDir(await check('read', path)),
    stat: async (path) => inner.stat(await check('read', path)),
    realPath,
    async mkdirp(path) {
      const real = await check('read', path);
      if ((await inner.stat(real))?.isDirectory) return; // nothing to write
      await inner.mkdirp(await check('write', real));
    },
    // A tool's own `ask` (web_fetch outside web.allowed_domains) goes to this IO's gate, as the policy's do.
    approve: (request, reason, signal) => enforce({ verdict: 'ask', reason }, request, settings.mode, gate, signal),
    async exec(command, { escalate, ...execOptions }) {
      const cwd = await realPath(execOptions.cwd);
      const os = status();
      const request: SandboxRequest = { kind: 'exec', command, cwd, osSandbox: os, ...(escalate ? { escalate } : {}) };
      await enforce(decide(settings, request), request, settings.mode, gate, execOptions.signal);
      // Approved by a human: this one command runs outside the sandbox.
      if (escalate) return inner.exec(command, { ...execOptions, cwd });
      if (!os.available) throw new Error('unreachable: the policy runs no command without an OS sandbox');
      options.prepare?.();
      const argv =
        os.kind === 'bubblewrap'
          ? [os.executable, ...bubblewrapArgs(settings, command, cwd)]
          : ['env', `TMPDIR=${settings.tempDir}`, os.executable, ...seatbeltArgs(settings, command)];
      const result = await inner.exec(`exec ${shellCommandLine(argv)}`, { ...execOptions, cwd });
      if (result.exitCode === 0 || result.timedOut) return result;
      const note = sandboxNote(settings, command, gate !== refuseApprovals);
      return { ...result, output: `${result.output}${result.output.endsWith('\n') || result.output === '' ? '' : '\n'}${note}` };
    },
  };
}

/**
 * Appended to a failed command's output, so the model can tell a sandbox refusal ("Read-only file
 * system", "Network is unreachable") from a bug: the mode, where it may write, what it cannot reach;
 * when a human can approve (`approvable`), how to ask to run it outside the sandbox.
 */
export function sandboxNote(settings: SandboxSettings, command: string, approvable = false): string {
  const writes = settings.mode === 'read-only' ? 'it may write nowhere' : `it may write only under ${settings.writableRoots.join(', ')}`;
  const network = decide(settings, { kind: 'network', command }).verdict === 'allow' ? 'it has network' : 'it has no network';
  const hidden = settings.protectedPaths.map((entry) => entry.path).join(', ');
  return (
    `[sandbox: this command ran in ${settings.mode} mode: ${writes}; ${network}; ${hidden} ${settings.protectedPaths.length === 1 ? 'is' : 'are'} hidden. ` +
    `A "Read-only file system" or network error comes from the sandbox.` +
    `${approvable ? ' If the command must do that, call terminal again with escalate: true: a human approves or denies running it outside the sandbox.' : ''}]`
  );
}
