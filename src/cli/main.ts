import { Command, CommanderError } from 'commander';
import { legateHome } from '../config/load.js';
import { errorMessage } from '../errors.js';
import { legateVersion } from '../version.js';
import { CommandLog, logFilePath } from './command-log.js';
import { registerCompletion } from './completion.js';
import { processStreams, type Streams } from './context.js';
import type { RunOptions } from './run.js';
import { registerSessions } from './sessions.js';
import { registerTasks } from './tasks.js';
import { checkedCwd, exitCodeFor } from './usage.js';

const sandboxOption = ['--sandbox <mode>', 'read-only, workspace-write or danger-full-access (default: agent.sandbox, else workspace-write)'] as const;
const dispatchOnlyOption = ['--dispatch-only', 'shared mode: only put tasks on the shared queue; workers elsewhere run them (legate worker)'] as const;

/** Parse argv and run one command. Resolves with the process exit code. */
export async function main(argv: string[], given: Streams = processStreams()): Promise<number> {
  let exitCode = 0;
  // Commands write through this object; the log is added once the command is known (preAction).
  const streams: Streams = { ...given };
  const program = new Command('legate')
    .description('An agent runtime with asynchronous subagents')
    .version(legateVersion, '-V, --version', 'print the version')
    .option('--config <file>', 'config file (default: $LEGATE_HOME/config.yaml, LEGATE_HOME defaults to ~/.legate)')
    .option('--cwd <dir>', 'working directory for the agent (default: the current directory)')
    .option('--verbose', 'extra detail on stderr: config file, endpoints (keys masked), each model call and retry')
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => streams.stdout.write(text),
      writeErr: (text) => streams.stderr.write(text),
    });

  // Command modules load when their command runs (`import()` in each action): `legate --version`,
  // `--help` and `tasks list` do not pay for the model SDKs, BullMQ, the dashboard server or ACP.
  // Before any command runs: open the command's log, and refuse a --cwd that is not a directory.
  program.hook('preAction', (_program, action) => {
    const options = action.optsWithGlobals() as { cwd?: string; verbose?: boolean };
    const log = new CommandLog(logFilePath(legateHome(streams.env)), streams.stderr, Boolean(options.verbose), commandPath(action));
    streams.log = log;
    log.record(`started: legate ${argv.slice(2).join(' ')} (in ${process.cwd()}, legate ${legateVersion})`);
    log.detail(`log file: ${log.file}`);
    if (options.cwd !== undefined) program.setOptionValue('cwd', checkedCwd(options.cwd));
  });

  program
    .command('run')
    .description('run one prompt to its final answer (answer on stdout, progress on stderr)')
    .argument('<prompt>', 'what the agent should do; - reads it from stdin')
    .option('--json', 'print {final, status, usage, tasks, ...} as JSON on stdout (progress stays on stderr)')
    .option('--reasoning', "with --json: include the parent's reasoning (thinking) as `reasoning`")
    .option('--no-wait', 'do not wait for background tasks after the final answer')
    .option(...sandboxOption)
    .option('--model <name>', "the parent's model (default: model.name of the config)")
    .option('--budget-tokens <n>', 'the most tokens the run may spend: the parent and every task below it (default: agent.budget)')
    .option('--budget-usd <x>', 'the most USD the run may spend at the configured prices (default: agent.budget)')
    .option(...dispatchOnlyOption)
    .action(async (prompt: string, options: RunOptions, command: Command) => {
      const { readPrompt, runCommand, writeRunFailure } = await import('./run.js');
      const all: RunOptions = { ...command.optsWithGlobals(), ...options };
      try {
        exitCode = await runCommand(await readPrompt(prompt, streams), all, streams);
      } catch (error) {
        // Refused before the run started (the prompt, the config, the store): --json still prints a result.
        if (all.json) writeRunFailure(error, streams);
        throw error;
      }
    });

  program
    .command('chat')
    .description('interactive session with streaming output and a live task dock')
    .option('--resume [session]', 'continue a stored session (default: the most recent in this directory)')
    .option(...dispatchOnlyOption)
    .option(...sandboxOption)
    .action(async (options: { resume?: string | true; dispatchOnly?: boolean }, command: Command) => {
      const { chatCommand } = await import('./chat.js');
      exitCode = await chatCommand({ ...command.optsWithGlobals(), ...options }, streams);
    });

  program
    .command('demo')
    .description('the async subagent lifecycle on your own files, with a built-in offline model (no key, no network)')
    .option('--fast', 'shorter pauses between steps')
    .action(async (options: { fast?: boolean }, command: Command) => {
      const { demoCommand } = await import('./demo.js');
      exitCode = await demoCommand({ ...command.optsWithGlobals(), ...options }, streams);
    });

  program
    .command('doctor')
    .description('print the resolved config (keys masked) and check the endpoint')
    .action(async (_options: unknown, command: Command) => {
      const { doctorCommand } = await import('./doctor.js');
      exitCode = await doctorCommand(command.optsWithGlobals(), streams);
    });

  program
    .command('mcp')
    .description('serve the delegation tools to an MCP client over stdio (stdout is the MCP channel)')
    .option('--session <name>', "session the client's tasks belong to (default: one per working directory)")
    .option(...dispatchOnlyOption)
    .option(...sandboxOption)
    .action(async (options: { session?: string; dispatchOnly?: boolean }, command: Command) => {
      const { mcpCommand } = await import('./mcp.js');
      exitCode = await mcpCommand({ ...command.optsWithGlobals(), ...options }, streams);
    });

  program
    .command('acp')
    .description('serve legate to an ACP client (Zed and other editors) over stdio (stdout is the ACP channel)')
    .option(...sandboxOption)
    .action(async (_options: unknown, command: Command) => {
      const { acpCommand } = await import('./acp.js');
      exitCode = await acpCommand(command.optsWithGlobals(), streams);
    });

  registerTasks(program, streams, (code) => (exitCode = code));
  registerSessions(program, streams, (code) => (exitCode = code));

  program
    .command('worker')
    .description('run queued and interrupted tasks of this LEGATE_HOME, or of the shared queue in shared mode, until stopped (Ctrl-C hands them back)')
    .option('--concurrency <n>', 'tasks at once (default: delegation.max_concurrent_children)')
    .option('--until-idle', 'exit once no task is queued, interrupted or running')
    .option(...sandboxOption)
    .action(async (options: { concurrency?: string; untilIdle?: boolean }, command: Command) => {
      const { workerCommand } = await import('./worker.js');
      exitCode = await workerCommand({ ...command.optsWithGlobals(), ...options }, streams);
    });

  program
    .command('ui')
    .description('serve a live web dashboard of the tasks, sessions and workers of this LEGATE_HOME (the address carries a token)')
    .option('--port <port>', 'port to listen on', '4400')
    .option('--host <host>', 'address to bind (anything but loopback warns: the token then guards it alone)', '127.0.0.1')
    .option('--open', 'open the address in the browser')
    .action(async (options: { port?: string; host?: string; open?: boolean }, command: Command) => {
      const { uiCommand } = await import('./ui.js');
      exitCode = await uiCommand({ ...command.optsWithGlobals(), ...options }, streams);
    });

  registerCompletion(program, streams);

  try {
    await program.parseAsync(argv);
  } catch (error) {
    exitCode = exitCodeFor(error);
    if (!(error instanceof CommanderError)) {
      streams.stderr.write(`legate: ${errorMessage(error)}\n`);
      streams.log?.record(`error: ${errorMessage(error)}`);
    }
  }
  streams.log?.record(`exit ${exitCode}`);
  streams.log?.close();
  return exitCode;
}

/** The command's names from the top, without `legate` (`tasks list`), to tag its log lines. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at?.parent; at = at.parent) names.unshift(at.name());
  return names.join(' ') || 'legate';
}
