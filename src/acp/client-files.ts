import type * as acp from '@agentclientprotocol/sdk';
import type { ToolIO } from '../tools/tool.js';

/** What the client's `initialize` offered: `clientCapabilities.fs`. */
export interface ClientFileCapabilities {
  readTextFile: boolean;
  writeTextFile: boolean;
}

/** The file capabilities an `initialize` request offers (none when it names none). */
export function clientFileCapabilities(params: acp.InitializeRequest): ClientFileCapabilities {
  const fs = params.clientCapabilities?.fs;
  return { readTextFile: fs?.readTextFile === true, writeTextFile: fs?.writeTextFile === true };
}

/**
 * `base` with file contents read and written through the ACP client of session `sessionId`
 * (`fs/read_text_file`, `fs/write_text_file`) as far as `capabilities` allow, so the file tools see
 * the editor's unsaved buffers and their writes land in the editor (its undo history; the editor
 * saves them). Everything else (stat, directories, searching, commands) stays on `base`.
 *
 * It sits under the sandbox (`Runtime.sessionIO` wraps it): the policy has checked the real path
 * before the client is asked. An error from the client becomes the tool's error, naming the path.
 */
export function clientFileIO(base: ToolIO, client: acp.AgentContext, sessionId: string, capabilities: ClientFileCapabilities): ToolIO {
  const failed = (what: string, path: string, error: unknown): Error =>
    new Error(`the editor could not ${what} ${path}: ${error instanceof Error ? error.message : String(error)}`);
  return {
    ...base,
    readFile: capabilities.readTextFile
      ? async (path) => {
          try {
            return (await client.request('fs/read_text_file', { sessionId, path })).content;
          } catch (error) {
            throw failed('read', path, error);
          }
        }
      : base.readFile,
    writeFile: capabilities.writeTextFile
      ? async (path, content) => {
          try {
            await client.request('fs/write_text_file', { sessionId, path, content });
          } catch (error) {
            throw failed('write', path, error);
          }
        }
      : base.writeFile,
  };
}
