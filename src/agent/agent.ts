import type { Message, Provider } from '../provider/types.js';
import type { Tool, ToolIO } from '../tools/tool.js';
import { closeTurn } from './close-turn.js';
import type { PrepareContext } from './context/prepare-context.js';
import type { AgentEvent, RunResult } from './events.js';
import { type RequestOptions, runAgentLoop } from './loop.js';
import type { RunGuard } from './run-guard.js';

/** One agent as the top level sees it: where it runs and with what (`Runtime.agent` builds one from config). */
export interface AgentSetup {
  provider: Provider;
  model: string;
  system: string;
  /** The current tools: asked before every model call (`Runtime.liveToolsFor` keeps them current). */
  tools: () => readonly Tool[];
  maxIterations: number;
  /** Output token limit per model call (undefined: none sent). */
  maxTokens: number | undefined;
  /** Consulted before each model and tool call (a session's budget). */
  guard?: RunGuard;
  /** Reasoning effort, prompt caching and the endpoint's rules, sent with every call. */
  requestOptions?: RequestOptions;
  /** The context step before each model call (compaction), kept across turns: its latest compaction carries on. */
  prepareContext?: PrepareContext;
}

export type AgentListener = (event: AgentEvent) => void;

/**
 * A conversation with one agent: a thin wrapper around `runAgentLoop` that keeps the messages
 * between turns and fans events out to subscribers.
 */
export class Agent {
  messages: Message[] = [];
  private readonly listeners = new Set<AgentListener>();

  constructor(
    private readonly setup: AgentSetup,
    private readonly environment: { cwd: string; io: ToolIO },
  ) {}

  subscribe(listener: AgentListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One turn: the user's message, then the loop until a final answer. Never throws; `messages` always ends well formed. */
  async prompt(text: string, signal: AbortSignal = new AbortController().signal): Promise<RunResult> {
    const result = await runAgentLoop({
      provider: this.setup.provider,
      model: this.setup.model,
      system: this.setup.system,
      messages: [...this.messages, { role: 'user', content: text }],
      tools: this.setup.tools,
      cwd: this.environment.cwd,
      io: this.environment.io,
      maxIterations: this.setup.maxIterations,
      ...(this.setup.maxTokens ? { maxTokens: this.setup.maxTokens } : {}),
      signal,
      ...(this.setup.guard ? { guard: this.setup.guard } : {}),
      ...(this.setup.requestOptions ? { requestOptions: this.setup.requestOptions } : {}),
      ...(this.setup.prepareContext ? { prepareContext: this.setup.prepareContext } : {}),
      emit: (event) => {
        for (const listener of this.listeners) listener(event);
      },
    });
    // A turn without an answer is closed (closeTurn), so the next one does not follow an unanswered message.
    this.messages = closeTurn(result);
    return result;
  }
}
