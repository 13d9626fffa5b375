import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import * as acp from '@agentclientprotocol/sdk';
import { LegateError, quoted } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { Session } from '../session.js';
import { newSessionId } from '../tasks/task-service.js';
import type { ToolIO } from '../tools/tool.js';
import { legateVersion } from '../version.js';
import { type ClientFileCapabilities, clientFileCapabilities, clientFileIO } from './client-files.js';
import { EditorApprovals } from './editor-approvals.js';
import { ServedSession } from './served-session.js';

export interface AcpAgentOptions {
  /** The runtime for a session's working directory (`session/new`'s `cwd`), opened on first use. */
  runtimeFor(cwd: string): Promise<Runtime>;
  /** Diagnostics (stderr: stdout is the ACP channel). */
  log(line: string): void;
}

/**
 * legate as an ACP agent (`legate acp`): an editor creates or loads sessions and prompts them; each
 * is a legate `Session` driven as `chat` drives one (see `ServedSession`), with the whole
 * delegation toolset. Sessions are the stored ones of `legate chat --resume`, so `session/load`
 * continues a chat session and replays its messages as updates.
 *
 * - When `initialize` offers `fs.readTextFile` / `fs.writeTextFile`, the session's file tools read
 *   and write file contents through the client (`clientFileIO`), inside the sandbox.
 * - A session's own call that the sandbox policy answers `ask` for goes to the editor as
 *   `session/request_permission` (`EditorApprovals`), and so does the request of a background task
 *   of the session that parks `input_required` (`ParkedTaskQuestions`).
 *
 * Not yet: client-provided MCP servers.
 */
export function createAcpAgent(options: AcpAgentOptions): { app: acp.AgentApp; close(): void } {
  const sessions = new Map<string, ServedSession>();
  let client: acp.AgentContext | undefined;
  let files: ClientFileCapabilities = { readTextFile: false, writeTextFile: false };

  /** A session of `runtime` with id `id` (stored: continued), its file tools and approvals wired to this client. */
  const open = async (runtime: Runtime, id: string | undefined): Promise<ServedSession> => {
    const sessionId = id ?? newSessionId();
    const approvals = new EditorApprovals(() => client, sessionId, runtime.cwd);
    const offered = files;
    const connected = client;
    const wrap =
      connected && (offered.readTextFile || offered.writeTextFile) ? (base: ToolIO): ToolIO => clientFileIO(base, connected, sessionId, offered) : undefined;
    // `agent.approval: never`: calls outside the mode are refused (the runtime's gate), nobody is asked.
    const asking = runtime.approvalMode === 'on-request';
    const io = runtime.sessionIO({ ...(asking ? { gate: approvals } : {}), ...(wrap ? { wrap } : {}) });
    const session = id === undefined ? new Session(runtime, sessionId, undefined, { io }) : await Session.resume(runtime, id, { io });
    const served = new ServedSession(
      session,
      async (update) => {
        if (client) await client.notify('session/update', { sessionId: session.id, update });
      },
      options.log,
      approvals,
      () => client,
    );
    sessions.get(session.id)?.close();
    sessions.set(session.id, served);
    return served;
  };
  const get = (sessionId: string): ServedSession => {
    const served = sessions.get(sessionId);
    if (!served) throw acp.RequestError.resourceNotFound(sessionId);
    return served;
  };

  const app = acp
    .agent({ name: 'legate' })
    .onConnect((connection) => {
      client = connection.client;
    })
    .onRequest('initialize', ({ params }) => {
      files = clientFileCapabilities(params);
      return {
        protocolVersion: acp.PROTOCOL_VERSION,
        agentCapabilities: { loadSession: true, promptCapabilities: { image: false, audio: false, embeddedContext: true } },
        agentInfo: { name: 'legate', title: 'legate', version: legateVersion },
        authMethods: [],
      };
    })
    .onRequest('session/new', async ({ params }) => {
      const served = await open(await options.runtimeFor(sessionCwd(params.cwd)), undefined);
      return { sessionId: served.id };
    })
    .onRequest('session/load', async ({ params }) => {
      const runtime = await options.runtimeFor(sessionCwd(params.cwd));
      let served: ServedSession;
      try {
        served = await open(runtime, params.sessionId);
      } catch (error) {
        if (error instanceof LegateError && error.code === 'session_not_found') throw acp.RequestError.resourceNotFound(params.sessionId);
        throw error;
      }
      await served.replay();
      // Tasks that ended while nobody served the session: their notices are the next turn.
      served.requestNotices();
      return {};
    })
    .onRequest('session/prompt', async ({ params }) => {
      const served = get(params.sessionId);
      const stopReason = await served.prompt(promptText(params.prompt));
      return { stopReason };
    })
    .onNotification('session/cancel', ({ params }) => {
      sessions.get(params.sessionId)?.cancel();
    });

  return {
    app,
    close: () => {
      for (const served of sessions.values()) served.close();
      sessions.clear();
    },
  };
}

/** The prompt as text: text blocks as they are, embedded resources and links by their content or URI. */
function promptText(blocks: acp.ContentBlock[]): string {
  return blocks
    .map((block) => {
      if (block.type === 'text') return block.text;
      if (block.type === 'resource_link') return `[${block.name}](${block.uri})`;
      if (block.type === 'resource')
        return 'text' in block.resource ? `<resource uri="${block.resource.uri}">\n${block.resource.text}\n</resource>` : `[resource ${block.resource.uri}]`;
      return `[${block.type} omitted]`;
    })
    .join('\n');
}

/** `session/new|load`'s `cwd`, refused (Invalid params) unless it is an absolute path to an existing directory. */
function sessionCwd(cwd: string): string {
  const refuse = (why: string): never => {
    throw acp.RequestError.invalidParams({ cwd }, `cwd ${quoted(cwd, 200)} ${why}`);
  };
  if (!isAbsolute(cwd)) refuse('is not an absolute path');
  const stat = statSync(cwd, { throwIfNoEntry: false });
  if (!stat) refuse('does not exist');
  if (!stat?.isDirectory()) refuse('is not a directory');
  return cwd;
}
