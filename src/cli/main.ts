import { Command, CommanderError } from 'commander';
import { errorMessage, LegateError } from '../errors.js';
import { legateVersion } from '../version.js';
import { acpCommand } from './acp.js';
import { chatCommand } from './chat.js';
import { processStreams, type Streams } from './context.js';
import { demoCommand } from './demo.js';
import { doctorCommand } from './doctor.js';
import { mcpCommand } from './mcp.js';
import { runCommand } from './run.js';
import { registerTasks } from './tasks.js';
import { workerCommand } from './worker.js';

/** Parse argv and run one command. Resolves with the process exit code. */
export async function main(argv: string[], streams: Streams = processStreams()): Promise<number> {
  let exitCode = 0;
  const program = new Command('legate')
    .description('An agent runtime with asynchronous subagents')
    .version(legateVersion, '-V, --version', 'print the version')
    .option('--config <file>', 'config file (default: $LEGATE_HOME/config.yaml, LEGATE_HOME defaults to ~/.legate)')
    .option('--cwd <dir>', 'working directory for the agent (default: the current directory)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => streams.stdout.write(text),
      writeErr: (text) => streams.stderr.write(text),
    });

  program
    .command('run')
    .description('run one prompt to its final answer (answer on stdout, progress on stderr)')
    .argument('<prompt>', 'what the agent should do')
    .option('--json', 'print {final, status, usage, tasks, ...} as JSON')
    .option('--no-wait', 'do not wait for background tasks after the final answer')
    .action(async (prompt: string, options: { json?: boolean; wait?: boolean }, command: Command) => {
      exitCode = await runCommand(prompt, { ...command.optsWithGlobals(), ...options }, streams);
    });

  program
    .command('chat')
    .description('interactive session with streaming output and a live task dock')
    .option('--resume [session]', 'continue a stored session (default: the most recent in this directory)')
    .action(async (options: { resume?: string | true }, command: Command) => {
      exitCode = await chatCommand({ ...command.optsWithGlobals(), ...options }, streams);
    });

  program
    .command('demo')
    .description('the async subagent lifecycle on your own files, with a built-in offline model (no key, no network)')
    .option('--fast', 'shorter pauses between steps')
    .action(async (options: { fast?: boolean }, command: Command) => {
      exitCode = await demoCommand({ ...command.optsWithGlobals(), ...options }, streams);
    });

  program
    .command('doctor')
    .description('print the resolved config (keys masked) and check the endpoint')
    .action(async (_options: unknown, command: Command) => {
      exitCode = await doctorCommand(command.optsWithGlobals(), streams);
    });

  program
    .command('mcp')
    .description('serve the delegation tools to an MCP client over stdio (stdout is the MCP channel)')
    .option('--session <name>', "session the client's tasks belong to (default: one per working directory)")
    .action(async (options: { session?: string }, command: Command) => {
      exitCode = await mcpCommand({ ...command.optsWithGlobals(), ...options }, streams);
    });

  program
    .command('acp')
    .description('serve legate to an ACP client (Zed and other editors) over stdio (stdout is the ACP channel)')
    .action(async (_options: unknown, command: Command) => {
      exitCode = await acpCommand(command.optsWithGlobals(), streams);
    });

  registerTasks(program, streams, (code) => (exitCode = code));

  program
    .command('worker')
    .description('run queued and interrupted tasks of this LEGATE_HOME until stopped (Ctrl-C hands them back)')
    .option('--concurrency <n>', 'tasks at once (default: delegation.max_concurrent_children)')
    .option('--until-idle', 'exit once no task is queued, interrupted or running')
    .action(async (options: { concurrency?: string; untilIdle?: boolean }, command: Command) => {
      exitCode = await workerCommand({ ...command.optsWithGlobals(), ...options }, streams);
    });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    streams.stderr.write(`legate: ${errorMessage(error)}\n`);
    return error instanceof LegateError && error.code.startsWith('config') ? 2 : 1;
  }
}
