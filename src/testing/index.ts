/**
 * `legate/testing`: the scripted model server legate's own tests use, for testing programs built
 * on legate through the real SDK clients and real sockets.
 */
export { startScriptedServer, type ScriptedServer, type ScriptedServerOptions } from './scripted-server.js';
export type { RecordedRequest, ScriptedReply, ScriptedStep, ScriptedUsage } from './scripted-script.js';
