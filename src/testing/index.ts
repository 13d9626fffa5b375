/**
 * `legate/testing`: the scripted model server legate's own tests use, for testing programs built
 * on legate through the real SDK clients and real sockets.
 */

export { freePort } from './free-port.js';
export { type EmulatedProvider, thinkingSignature } from './provider-rules.js';
export type { RecordedRequest, ScriptedReply, ScriptedStep, ScriptedUsage } from './scripted-script.js';
export { type ContextLengthStyle, type ScriptedServer, type ScriptedServerOptions, startScriptedServer } from './scripted-server.js';
