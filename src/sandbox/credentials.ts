import { homedir } from 'node:os';
import { resolvePath } from '../tools/paths.js';

/**
 * Where tools keep credentials under the user's home directory: hidden from every tool in
 * `read-only` and `workspace-write` (what a child reads goes to the model provider and into the
 * store). `sandbox.deny_read` adds paths; `sandbox.allow_read` re-opens one of these on purpose.
 */
export const defaultCredentialPaths = [
  '~/.ssh',
  '~/.aws',
  '~/.azure',
  '~/.gnupg',
  '~/.config/gcloud',
  '~/.config/gh',
  '~/.config/hub',
  '~/.docker/config.json',
  '~/.kube',
  '~/.netrc',
  '~/.npmrc',
  '~/.yarnrc.yml',
  '~/.pypirc',
  '~/.git-credentials',
  '~/.config/git/credentials',
  '~/.cargo/credentials.toml',
  '~/.terraform.d/credentials.tfrc.json',
  '~/.password-store',
  '~/.local/share/keyrings',
];

export interface CredentialSettings {
  /** `sandbox.deny_read`: more paths to hide (absolute, `~/…`, or relative to the working directory). */
  denyRead: string[];
  /** `sandbox.allow_read`: paths of the default list to leave readable. */
  allowRead: string[];
  /** The user's home directory (default: `os.homedir()`, which follows `$HOME`). */
  userHome?: string;
}

/** The absolute paths to hide: the defaults under the user's home and `deny_read`, less `allow_read`. */
export function hiddenCredentialPaths(settings: CredentialSettings, cwd: string): string[] {
  const home = settings.userHome ?? homedir();
  const expand = (path: string): string =>
    path === '~' ? home : path.startsWith('~/') ? resolvePath(`${home}/${path.slice(2)}`, cwd) : resolvePath(path, cwd);
  const allowed = new Set(settings.allowRead.map(expand));
  return [...new Set([...defaultCredentialPaths, ...settings.denyRead].map(expand))].filter((path) => !allowed.has(path));
}
