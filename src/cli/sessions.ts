import type { Command } from 'commander';
import { errorMessage } from '../errors.js';
import type { SessionRecord } from '../tasks/task-record.js';
import { type GlobalOptions, openTaskDesk, type Streams } from './context.js';
import { exitCodeFor } from './usage.js';

/** `legate sessions list`: the stored conversations (`legate chat --resume ID` continues one). No key needed. */
export function registerSessions(program: Command, streams: Streams, setExit: (code: number) => void): void {
  const sessions = program.command('sessions').description('stored sessions of this LEGATE_HOME (legate chat --resume ID continues one)');
  sessions
    .command('list')
    .description("this directory's stored sessions, most recent first: id, directory, last update, turns")
    .option('--all', 'sessions of every directory')
    .option('--json', 'print JSON')
    .action(async (options: { all?: boolean; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals() as GlobalOptions;
      try {
        const desk = await openTaskDesk(globals, streams);
        try {
          const stored = await desk.sessions.list({ ...(options.all ? {} : { cwd: desk.cwd }), limit: 200 });
          const rows = stored.map(sessionRow);
          if (options.json) streams.stdout.write(`${JSON.stringify({ sessions: rows }, null, 2)}\n`);
          else
            streams.stdout.write(
              `${rows.length === 0 ? `no stored sessions${options.all ? '' : ` in ${desk.cwd} (--all for every directory)`}` : sessionTable(rows)}\n`,
            );
          setExit(0);
        } finally {
          await desk.close();
        }
      } catch (error) {
        streams.stderr.write(`legate: ${errorMessage(error)}\n`);
        setExit(exitCodeFor(error));
      }
    });
}

interface SessionRow {
  session_id: string;
  cwd: string;
  updated_at: string;
  /** The user's turns (completion notices count: each is a turn of the agent). */
  turns: number;
}

function sessionRow(session: SessionRecord): SessionRow {
  return {
    session_id: session.id,
    cwd: session.cwd,
    updated_at: new Date(session.updatedAt).toISOString(),
    turns: session.messages.filter((message) => message.role === 'user').length,
  };
}

/** `2026-12-03 09:41` in local time. */
function localTime(iso: string): string {
  const at = new Date(iso);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}`;
}

function sessionTable(rows: SessionRow[]): string {
  const cells = [['ID', 'UPDATED', 'TURNS', 'DIRECTORY'], ...rows.map((row) => [row.session_id, localTime(row.updated_at), String(row.turns), row.cwd])];
  const widths = [0, 1, 2].map((index) => Math.max(...cells.map((line) => line[index]!.length)));
  return cells.map((line) => [line[0]!.padEnd(widths[0]!), line[1]!.padEnd(widths[1]!), line[2]!.padStart(widths[2]!), line[3]!].join('  ')).join('\n');
}
