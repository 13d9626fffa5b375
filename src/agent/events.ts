import type { Message, StopReason, Usage } from '../provider/types.js';

/**
 * Why a run ended. `completed` is the only one that carries a usable answer. `max_tokens`: the
 * model's replies were cut off at the output token limit several times in a row. `max_resumes`: the task was taken over more often than
 * `tasks.max_resumes` allows. `budget_exceeded`: a budget of the task or of a task above it ran out
 * (the run's `RunGuard` said stop, or its `seconds` aborted the call in flight). `refusal`: the model
 * declined the task (its explanation is the error).
 */
export type ExitReason =
  | 'completed'
  | 'error'
  | 'max_iterations'
  | 'max_tokens'
  | 'timeout'
  | 'cancelled'
  | 'max_resumes'
  | 'budget_exceeded'
  | 'context_overflow'
  | 'refusal';

/**
 * The outcome of one agent run. `status: 'completed'` means the model gave a non-empty final
 * answer; anything else is `failed` (with `error`) or `cancelled`.
 */
export interface RunResult {
  status: 'completed' | 'failed' | 'cancelled';
  exitReason: ExitReason;
  /** The final answer (completed), or the last assistant text seen (otherwise). */
  final: string;
  error?: string;
  /** The whole conversation after the run, including the initial messages. */
  messages: Message[];
  usage: Usage;
  apiCalls: number;
}

/** Events the loop emits, a closed union; consumers switch on `type`. */
export type AgentEvent =
  | { type: 'model.started'; iteration: number; model: string }
  | { type: 'text.delta'; text: string }
  /** The model's reasoning as it streams: shown as thinking, never part of the answer. */
  | { type: 'reasoning.delta'; text: string }
  /** `discarded`: the text streamed since `model.started` (or the last retry) belongs to a reply that was dropped. */
  | { type: 'model.retry'; attempt: number; delayMs: number; reason: string; discarded?: boolean }
  /** `stopReason: 'max_tokens'`: the reply was cut off; its tool calls are not run and the model is asked again. */
  /** `reasoning`: the reply's thinking, as text (shown folded as thinking; never part of the answer). */
  | { type: 'model.finished'; iteration: number; text: string; toolCalls: number; usage: Usage; stopReason: StopReason; reasoning?: string }
  | { type: 'usage'; call: Usage; total: Usage }
  | { type: 'tool.started'; callId: string; name: string; arguments: string }
  | { type: 'tool.finished'; callId: string; name: string; content: string; isError: boolean; durationMs: number; fetchedBytes?: number }
  | { type: 'steer.delivered'; messages: string[] }
  /** The context was compacted before a model call (`count`: compactions in this run so far). */
  | { type: 'context.compacted'; how: 'prune' | 'summarise'; tokensBefore: number; tokensAfter: number; count: number }
  /**
   * Tokens of context in use after a model call and after its tool results: the call's reported
   * input (cached included) and output, plus an estimate of what was added since. `window`: the
   * model's, when known; `compactions`: in this run so far.
   */
  | { type: 'context.used'; tokens: number; window?: number; compactions: number }
  /** Messages added since the last checkpoint (steering turns, a model reply, then its tool results), emitted after each reply and after its tool results. */
  | { type: 'step.completed'; iteration: number; messages: Message[] }
  | { type: 'done'; result: RunResult };
