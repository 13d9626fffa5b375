import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { maskKey } from '../secrets.js';
import { anthropicWire } from './anthropic-wire.js';
import { openaiWire } from './openai-wire.js';
import { anthropicPairingViolation, openaiPairingViolation } from './pairing-rules.js';
import { PromptCacheModel } from './prompt-cache-model.js';
import { anthropicRuleViolation, type EmulatedProvider, openaiRuleViolation } from './provider-rules.js';
import { sendJson, writeReply } from './reply-writer.js';
import { estimatedOutputTokens, type RecordedRequest, type ScriptedReply, type ScriptedStep } from './scripted-script.js';
import type { WireEncoder } from './wire-encoder.js';

export type { RecordedRequest, ScriptedReply, ScriptedStep } from './scripted-script.js';

/**
 * The project's scripted model server: a real HTTP server on loopback speaking the OpenAI
 * chat-completions and Anthropic Messages wires (streaming and not), replaying a per-test script
 * and recording every model request. It fails loudly: a request no step matches gets HTTP 500 and
 * lands in `unexpected`; `assertDone()` throws on leftover steps and unexpected requests.
 */
export interface ScriptedServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `url + '/v1'`: what the openai SDK takes as `baseURL`. */
  openaiBaseUrl: string;
  /** `url`: the Anthropic SDK appends `/v1/messages`. */
  anthropicBaseUrl: string;
  /** Every model request received, in arrival order (live array). */
  requests: RecordedRequest[];
  /** Appends steps; each is consumed by the first request it matches. */
  enqueue(...steps: ScriptedStep[]): void;
  /** Resolves when at least `count` model requests were received; rejects after `timeoutMs` (default 10 s). */
  waitForRequests(count: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  /** Descriptions of requests no step matched (and of scripted replies that threw). */
  unexpected: string[];
  /** Throws listing leftover steps and unexpected requests. */
  assertDone(): void;
  /** Closes the server and all its sockets; hung replies end. */
  close(): Promise<void>;
}

export interface ScriptedServerOptions {
  steps?: ScriptedStep[];
  /**
   * The model's context window in tokens (4 characters a token of the request's text): a longer
   * request gets the provider's real context-length 400 (OpenAI `context_length_exceeded`,
   * Anthropic `prompt is too long`). Absent: no limit.
   */
  contextWindow?: number;
  /**
   * Whose context-length 400 an OpenAI-wire request over `contextWindow` gets (default `openai`):
   * the body each server sends, as documented or as its source builds it (see `contextLengthBody`).
   */
  contextLengthStyle?: ContextLengthStyle;
  /** Answers requests no step matches (instead of failing them). */
  handler?: (req: RecordedRequest) => ScriptedReply | Promise<ScriptedReply>;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Model ids listed by `GET /v1/models`. Default `['scripted-model']`. */
  models?: string[];
  /** How long an idle keep-alive connection stays open, ms (Node's default 5 s; a hosted API keeps them longer). */
  keepAliveTimeoutMs?: number;
  /**
   * The OpenAI-compatible provider whose own rules the server enforces beside the wire's
   * (`provider-rules.ts`): `openai` refuses unknown message fields, `deepseek` requires
   * `reasoning_content` in the tool loop… Absent: chosen by the model's name where it says.
   */
  emulate?: EmulatedProvider;
  /**
   * Anthropic wire: replies without scripted `usage` report the input split by a model of
   * Anthropic's prompt cache (`prompt-cache-model.ts`): cache reads, writes and plain input.
   */
  promptCache?: boolean;
  /** Thinking signatures the server accepts besides its own (those of recorded streams replayed with `sse`). */
  trustedSignatures?: string[];
}

interface QueuedStep {
  step: ScriptedStep;
  position: number;
  consumed: boolean;
}

interface Waiter {
  count: number;
  resolve: (requests: RecordedRequest[]) => void;
  reject: (error: Error) => void;
}

export async function startScriptedServer(options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  const queue: QueuedStep[] = [];
  const requests: RecordedRequest[] = [];
  const unexpected: string[] = [];
  const waiters = new Set<Waiter>();
  const live = new Set<AbortController>();
  const models = options.models ?? ['scripted-model'];
  const cacheModel = options.promptCache ? new PromptCacheModel() : undefined;
  let closing = false;
  let closed: Promise<void> | undefined;

  const enqueue = (...steps: ScriptedStep[]): void => {
    for (const step of steps) queue.push({ step, position: queue.length + 1, consumed: false });
  };
  enqueue(...(options.steps ?? []));

  const notify = (): void => {
    for (const waiter of waiters) {
      if (requests.length >= waiter.count) {
        waiters.delete(waiter);
        waiter.resolve(requests.slice());
      }
    }
  };

  const selectStep = (request: RecordedRequest): ScriptedStep | undefined => {
    for (const queued of queue) {
      if (queued.consumed) continue;
      let matches: boolean;
      try {
        matches = queued.step.match ? queued.step.match(request) : true;
      } catch (error) {
        unexpected.push(`step ${stepName(queued)} match() threw on request #${request.index}: ${String(error)}`);
        matches = false;
      }
      if (matches) {
        queued.consumed = true;
        return queued.step;
      }
    }
    return undefined;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const gone = new AbortController();
    live.add(gone);
    let destroyedOnPurpose = false;
    let recorded: RecordedRequest | undefined;
    res.on('close', () => {
      live.delete(gone);
      if (recorded) {
        recorded.finishedAt = Date.now();
        if (!res.writableFinished && !destroyedOnPurpose && !closing) recorded.aborted = true;
      }
      gone.abort();
    });
    const startedAt = Date.now();
    const raw = await readBody(req, gone.signal);
    const path = new URL(req.url ?? '/', 'http://scripted').pathname;
    const method = req.method ?? 'GET';

    if (method === 'GET' && (path === '/v1/models' || path === '/models')) {
      const encoder = req.headers['anthropic-version'] ? anthropicWire : openaiWire;
      sendJson(res, 200, {}, JSON.stringify(encoder.modelsBody(models)));
      return;
    }
    const encoder = routeOf(method, path);
    if (!encoder) {
      unexpected.push(`${method} ${path}: no such endpoint on the scripted server`);
      sendJson(res, 404, {}, JSON.stringify({ error: { message: `scripted server: no endpoint ${method} ${path}`, type: 'not_found' } }));
      return;
    }

    const body = parseJson(raw);
    recorded = {
      index: requests.length,
      wire: encoder.wire,
      method,
      path,
      headers: { ...req.headers },
      apiKey: apiKeyOf(req),
      body,
      model: typeof body?.model === 'string' ? body.model : undefined,
      stream: body?.stream === true,
      text: encoder.requestText(body),
      startedAt,
      aborted: false,
    };
    requests.push(recorded);
    notify();
    const violation =
      encoder.wire === 'openai'
        ? (openaiPairingViolation(body) ?? openaiRuleViolation(body, options.emulate))
        : (anthropicPairingViolation(body) ?? anthropicRuleViolation(body, options.trustedSignatures));
    const tokens = Math.ceil(recorded.text.length / 4);
    if (!violation && options.contextWindow !== undefined && tokens > options.contextWindow) {
      sendJson(res, 400, {}, JSON.stringify(contextLengthBody(encoder.wire, tokens, options.contextWindow, options.contextLengthStyle)));
      return;
    }
    if (violation) {
      unexpected.push(`${describe(recorded)}: rejected as the real API would: ${JSON.stringify(violation.body)}`);
      sendJson(res, violation.status, {}, JSON.stringify(violation.body));
      return;
    }

    let reply: ScriptedReply;
    const step = selectStep(recorded);
    try {
      if (step) {
        if (step.label !== undefined) recorded.stepLabel = step.label;
        reply = typeof step.reply === 'function' ? await step.reply(recorded) : step.reply;
      } else if (options.handler) {
        reply = await options.handler(recorded);
      } else {
        const description = describe(recorded);
        unexpected.push(description);
        sendJson(res, 500, {}, JSON.stringify(encoder.errorBody(500, `scripted server: no step matched ${description}`)));
        return;
      }
    } catch (error) {
      const description = `${step ? `step ${JSON.stringify(step.label ?? '')}` : 'handler'} threw on ${describe(recorded)}: ${String(error)}`;
      unexpected.push(description);
      sendJson(res, 500, {}, JSON.stringify(encoder.errorBody(500, `scripted server: ${description}`)));
      return;
    }
    if (cacheModel && encoder.wire === 'anthropic' && !reply.usage) {
      reply = { ...reply, usage: { ...cacheModel.usageOf(body), outputTokens: estimatedOutputTokens(reply) } };
    }
    const destroySocket = (): void => {
      destroyedOnPurpose = true;
      req.socket.destroy();
    };
    await writeReply({ res, gone: gone.signal, destroySocket }, reply, recorded, encoder);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.destroyed || closing) return;
      unexpected.push(`${req.method} ${req.url}: scripted server failed: ${String(error)}`);
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, {}, JSON.stringify({ error: { message: `scripted server failed: ${String(error)}` } }));
    });
  });
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: url,
    requests,
    unexpected,
    enqueue,
    waitForRequests(count, timeoutMs = 10_000) {
      if (requests.length >= count) return Promise.resolve(requests.slice());
      if (closing) return Promise.reject(new Error('scripted server is closed'));
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          count,
          resolve: (received) => {
            clearTimeout(timer);
            resolve(received);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`scripted server: waited ${timeoutMs} ms for ${count} request(s), received ${requests.length}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    assertDone() {
      const leftover = queue.filter((queued) => !queued.consumed);
      if (leftover.length === 0 && unexpected.length === 0) return;
      const lines = ['scripted server: script not done'];
      if (leftover.length > 0) lines.push(`${leftover.length} step(s) never used: ${leftover.map(stepName).join(', ')}`);
      if (unexpected.length > 0) lines.push(`${unexpected.length} unexpected request(s):`, ...unexpected.map((line) => `  - ${line}`));
      throw new Error(lines.join('\n'));
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        for (const waiter of waiters) waiter.reject(new Error('scripted server closed while waiting for requests'));
        waiters.clear();
        for (const controller of live) controller.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function routeOf(method: string, path: string): WireEncoder | undefined {
  if (method !== 'POST') return undefined;
  if (path === '/v1/chat/completions' || path === '/chat/completions') return openaiWire;
  if (path === '/v1/messages') return anthropicWire;
  return undefined;
}

function apiKeyOf(req: IncomingMessage): string | undefined {
  const authorization = req.headers.authorization;
  if (authorization?.toLowerCase().startsWith('bearer ')) return authorization.slice('bearer '.length).trim();
  const key = req.headers['x-api-key'];
  return Array.isArray(key) ? key[0] : key;
}

function readBody(req: IncomingMessage, gone: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    gone.addEventListener('abort', () => reject(new Error('client disconnected while sending the request')), { once: true });
  });
}

function parseJson(raw: string): any {
  try {
    return JSON.parse(raw);
  } catch {
    // not JSON: recorded as the raw text
    return raw;
  }
}

/** `#3 openai POST /v1/chat/completions model gpt-x key sk-...a1b2: "…last words of the request"` */
function describe(request: RecordedRequest): string {
  const collapsed = request.text.replace(/\s+/g, ' ').trim();
  const excerpt = collapsed.length > 120 ? `…${collapsed.slice(-120)}` : collapsed;
  const key = request.apiKey ? ` key ${maskKey(request.apiKey)}` : '';
  return `#${request.index} ${request.wire} ${request.method} ${request.path} model ${request.model ?? '(none)'}${key}: ${JSON.stringify(excerpt)}`;
}

function stepName(queued: QueuedStep): string {
  return `#${queued.position}${queued.step.label !== undefined ? ` ${JSON.stringify(queued.step.label)}` : ''}`;
}

/** The providers' context-length 400 bodies, as they send them. */
/** The OpenAI-compatible servers whose context-length errors the scripted server can send. */
export type ContextLengthStyle = 'openai' | 'openrouter' | 'vllm' | 'llamacpp' | 'ollama';

/**
 * The context-length 400 of each server, as it sends it:
 * - OpenAI: `error.code: context_length_exceeded` (API reference, "Error codes").
 * - OpenRouter: its error object `{error: {message, code: 400, metadata}}`, the upstream's text
 *   ("This endpoint's maximum context length is N tokens…", docs "Errors").
 * - vLLM: the OpenAI server's `ErrorResponse` at the top level `{object: "error", message, type:
 *   "BadRequestError", code: 400}` (vllm/entrypoints/openai/protocol.py, serving_engine.py).
 * - llama.cpp server: `{error: {code: 400, message, type: "exceed_context_size_error", n_prompt_tokens, n_ctx}}` (tools/server).
 * - Ollama: its OpenAI-compatible error `{error: {message, type: "api_error"}}` with no number.
 * Anthropic's wire: `invalid_request_error` "prompt is too long: N tokens > M maximum".
 */
function contextLengthBody(wire: RecordedRequest['wire'], tokens: number, window: number, style: ContextLengthStyle = 'openai'): unknown {
  if (wire === 'anthropic')
    return { type: 'error', error: { type: 'invalid_request_error', message: `prompt is too long: ${tokens} tokens > ${window} maximum` } };
  switch (style) {
    case 'openrouter':
      return {
        error: {
          message: `This endpoint's maximum context length is ${window} tokens. However, you requested about ${tokens} tokens (${tokens} of text input). Please reduce the length of either one, or use the "middle-out" transform to compress your prompt automatically.`,
          code: 400,
          metadata: { provider_name: null },
        },
      };
    case 'vllm':
      return {
        object: 'error',
        message: `This model's maximum context length is ${window} tokens. However, you requested ${tokens} tokens (${tokens} in the messages, 0 in the completion). Please reduce the length of the messages or completion.`,
        type: 'BadRequestError',
        param: null,
        code: 400,
      };
    case 'llamacpp':
      return {
        error: {
          code: 400,
          message: `request (${tokens} tokens) exceeds the available context size (${window} tokens), try increasing it`,
          type: 'exceed_context_size_error',
          n_prompt_tokens: tokens,
          n_ctx: window,
        },
      };
    case 'ollama':
      return { error: { message: 'the input length exceeds the context length', type: 'api_error', param: null, code: null } };
    default:
      return {
        error: {
          message: `This model's maximum context length is ${window} tokens. However, your messages resulted in ${tokens} tokens. Please reduce the length of the messages.`,
          type: 'invalid_request_error',
          param: 'messages',
          code: 'context_length_exceeded',
        },
      };
  }
}
