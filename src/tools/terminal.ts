import { z } from 'zod';
import { capOutput } from './output-cap.js';
import { resolvePath } from './paths.js';
import { defineTool } from './tool.js';

const DEFAULT_TIMEOUT_SECONDS = 120;
const MAX_TIMEOUT_SECONDS = 3_600;

export const terminalTool = defineTool({
  name: 'terminal',
  description: [
    'Run a shell command with bash -c and return its exit code and combined stdout and stderr',
    '(long output keeps its beginning and end). stdin is closed, so interactive commands',
    '(editors, pagers, prompts) will fail or hang until the timeout: pass non-interactive flags.',
    'The command is killed, with everything it started, when the timeout expires.',
    'Each call runs in a fresh shell: cd and exported variables do not carry over; use cwd.',
    'Commands may run in a sandbox: outside the directories it may write, the file system is read-only and there may be',
    "no network; a failed command's result then ends with a [sandbox: …] line saying what it allows.",
    'When a command needs more (writing outside those directories, the network), call it again with escalate: true:',
    'a human is asked to approve running that one command outside the sandbox; a denial comes back as the result.',
  ].join(' '),
  parameters: z.object({
    command: z.string().min(1).describe('The shell command line to run, e.g. "git status --short".'),
    cwd: z.string().min(1).optional().describe('Directory to run in, absolute or relative to the working directory. Default: the working directory.'),
    timeout_seconds: z
      .number()
      .positive()
      .max(MAX_TIMEOUT_SECONDS)
      .default(DEFAULT_TIMEOUT_SECONDS)
      .describe(`Kill the command after this many seconds. Default ${DEFAULT_TIMEOUT_SECONDS}, at most ${MAX_TIMEOUT_SECONDS}.`),
    escalate: z
      .boolean()
      .optional()
      .describe('Ask a human to approve running this command outside the sandbox (only when the sandbox stops it). Default false.'),
  }),
  async execute({ command, cwd, timeout_seconds: timeoutSeconds, escalate }, context) {
    const dir = resolvePath(cwd ?? '.', context.cwd);
    const info = await context.io.stat(dir);
    if (!info) throw new Error(`working directory not found: ${dir}`);
    if (!info.isDirectory) throw new Error(`working directory is not a directory: ${dir}`);

    const result = await context.io.exec(command, { cwd: dir, timeoutMs: timeoutSeconds * 1_000, signal: context.signal, ...(escalate ? { escalate } : {}) });
    const output = result.output === '' ? '(no output)' : capOutput(result.output);
    if (result.timedOut) {
      return { content: `timed out after ${timeoutSeconds}s; the command was killed\n${output}`, isError: true };
    }
    const status = result.exitCode === null ? 'killed by a signal (no exit code)' : `exit code: ${result.exitCode}`;
    return `${status}\n${output}`;
  },
});
