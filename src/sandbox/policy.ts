import { sep } from 'node:path';
import type { SandboxMode } from './modes.js';

/** A path no tool may read or write outside `danger-full-access`, and how the OS sandbox hides it. */
export interface ProtectedPath {
  /** Real path (symlinks resolved). */
  path: string;
  kind: 'directory' | 'file';
  /** It exists now: bubblewrap can only mount over what exists (the file tools refuse it either way). */
  present: boolean;
  /** What it holds: legate's own home or config (never readable), or a credential (`sandbox.allow_read` re-opens it). */
  holds?: 'credentials';
}

/** Whether this machine can run commands in an OS sandbox, and if not, what to do about it. */
export type OsSandboxStatus = { available: true; kind: 'bubblewrap' | 'seatbelt'; executable: string } | { available: false; reason: string };

/**
 * Everything the policy decides on, fixed for an agent: its mode and roots. Paths are real paths
 * (symlinks resolved), so that checking a resolved request path against them is a prefix test.
 */
export interface SandboxSettings {
  mode: SandboxMode;
  /** Where `workspace-write` may write: the working directory, the private temp dir, `sandbox.writable_roots`. */
  writableRoots: string[];
  /** `$LEGATE_HOME`, the config file and the credentials that exist: never read or written by a tool in a sandboxed mode. */
  protectedPaths: ProtectedPath[];
  /** `sandbox.network`: commands may use the network in a sandboxed mode. */
  network: boolean;
  /** The private temporary directory (also in `writableRoots`): commands get it as `TMPDIR`. */
  tempDir: string;
  /**
   * The agent's working directory when it is a child's git worktree under `$LEGATE_HOME/worktrees/`:
   * open to it (as its workspace) although it lies in the protected home.
   */
  worktree?: string;
}

/**
 * One thing a tool is about to do. `path` is the real path (symlinks, `..`, `~` resolved by the
 * caller). `links` is the file's hard-link count when it exists; `sameFileAs` names a protected
 * file that is the same file (inode) under another name, when the caller found one. An `exec` with
 * `escalate` asks to run the command outside the OS sandbox (the `terminal` tool's `escalate`).
 */
export type SandboxRequest =
  | { kind: 'read'; path: string; links?: number; sameFileAs?: string }
  | { kind: 'write'; path: string; links?: number; sameFileAs?: string }
  | { kind: 'exec'; command: string; cwd: string; osSandbox: OsSandboxStatus; escalate?: boolean }
  | { kind: 'network'; command: string };

/**
 * The policy's answer. `ask` is a call outside the mode that a human could approve (the approval
 * flow will turn it into a request); `deny` is never approvable (secrets, no OS sandbox).
 */
export type SandboxDecision = { verdict: 'allow' } | { verdict: 'deny'; reason: string } | { verdict: 'ask'; reason: string };

const allow: SandboxDecision = { verdict: 'allow' };
const deny = (reason: string): SandboxDecision => ({ verdict: 'deny', reason });
const ask = (reason: string): SandboxDecision => ({ verdict: 'ask', reason });

/**
 * Decide whether `request` may run under `settings`. Pure: no file system, no environment. Reasons
 * name the path or command and the mode, and say which mode or setting would allow it.
 */
export function decide(settings: SandboxSettings, request: SandboxRequest): SandboxDecision {
  const { mode } = settings;
  if (mode === 'danger-full-access') return allow;
  const inMode = `in ${mode} mode`;

  switch (request.kind) {
    case 'read': {
      const secret = protectedHit(settings, request.path, request.sameFileAs);
      if (secret) return deny(`read of ${request.path} refused ${inMode}: ${secret}`);
      return allow;
    }
    case 'write': {
      const secret = protectedHit(settings, request.path, request.sameFileAs);
      if (secret) return deny(`write to ${request.path} refused ${inMode}: ${secret}`);
      if (mode === 'read-only')
        return ask(
          `write to ${request.path} refused in read-only mode: no tool may write (choose --sandbox workspace-write to write in the working directory)`,
        );
      const root = settings.writableRoots.find((candidate) => isWithin(request.path, candidate));
      if (!root) {
        return ask(
          `write to ${request.path} refused ${inMode}: it is outside the writable roots (${settings.writableRoots.join(', ')})` +
            `; add its directory to sandbox.writable_roots or choose --sandbox danger-full-access`,
        );
      }
      if (request.links !== undefined && request.links > 1) {
        return ask(
          `write to ${request.path} refused ${inMode}: the file has ${request.links} names (hard links) ` +
            `and legate cannot tell where the others are, so writing through it could change a file outside the writable roots`,
        );
      }
      return allow;
    }
    case 'exec': {
      const secret = protectedHit(settings, request.cwd, undefined);
      if (secret) return deny(`command ${JSON.stringify(request.command)} refused ${inMode}: its directory ${request.cwd} is hidden: ${secret}`);
      if (request.escalate) {
        return ask(
          `command ${JSON.stringify(request.command)} asks to run outside the sandbox ${inMode} (unsandboxed it may write anywhere` +
            `${settings.network ? '' : ' and use the network'}); it needs a human's approval (agent.approval: on-request)`,
        );
      }
      if (!request.osSandbox.available) {
        return deny(`command ${JSON.stringify(request.command)} refused ${inMode}: ${request.osSandbox.reason}`);
      }
      return allow;
    }
    case 'network':
      if (settings.network) return allow;
      return deny(
        `network for command ${JSON.stringify(request.command)} refused ${inMode}: ` +
          `set sandbox.network: true in config.yaml, or choose --sandbox danger-full-access`,
      );
  }
}

/** Why `path` (or the file it is another name of) is protected, or undefined. */
function protectedHit(settings: SandboxSettings, path: string, sameFileAs: string | undefined): string | undefined {
  for (const candidate of [path, sameFileAs]) {
    if (candidate === undefined) continue;
    // A child's worktree is open although it lies in the home; what is hidden inside it stays hidden.
    const worktree = settings.worktree !== undefined && isWithin(candidate, settings.worktree) ? settings.worktree : undefined;
    const hit = settings.protectedPaths.find((entry) => isWithin(candidate, entry.path) && !(worktree && isWithin(worktree, entry.path)));
    if (!hit) continue;
    const alias = candidate === path ? '' : ` (it is another name of ${candidate})`;
    if (hit.holds === 'credentials')
      return `${hit.path} holds credentials, hidden from every tool in this mode${alias}; list it in sandbox.allow_read to let tools read it`;
    const what = hit.kind === 'directory' ? `legate's home ${hit.path} (config, state.db)` : `the config file ${hit.path}`;
    return `it lies in ${what}, which no tool may read or write${alias}`;
  }
  return undefined;
}

/** `path` is `root` or lies under it. Both absolute and normalized. */
export function isWithin(path: string, root: string): boolean {
  if (path === root) return true;
  const prefix = root.endsWith(sep) ? root : root + sep;
  return path.startsWith(prefix);
}
