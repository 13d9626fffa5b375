import { osSandboxStatus } from '../../src/sandbox/availability.js';

/**
 * For tests about something else that run `terminal` through the CLI: no extra arguments where
 * commands can be sandboxed (they run in the default workspace-write mode), else `--sandbox
 * danger-full-access`, so `npm test` still passes on a machine without bubblewrap.
 */
export function sandboxArgsForCommands(): string[] {
  return osSandboxStatus().available ? [] : ['--sandbox', 'danger-full-access'];
}
