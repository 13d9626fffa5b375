import type { Budget } from '../budget/budget.js';
import { LegateError } from '../errors.js';
import type { SandboxMode } from './modes.js';
import type { SandboxDecision, SandboxRequest } from './policy.js';

/** A call the policy answered `ask` for: what a human would be shown. */
export interface ApprovalRequest {
  /** The request as the policy saw it (kind, real path or command). */
  request: SandboxRequest;
  mode: SandboxMode;
  /** The policy's reason, naming the path or command and the mode. */
  reason: string;
}

/**
 * A human's answer. `approved` lets the call run once with the extra permission; for a task's
 * budget request, `raise` says how much to add (absent: the budget's amount as set at spawn).
 */
export type ApprovalAnswer = { approved: true; raise?: Budget } | { approved: false; reason: string };

/**
 * The seam between the sandbox and approvals. Enforcement calls `request` for every `ask`
 * decision and waits for the answer. Never throws; aborting `signal` answers "not approved". The
 * default (`refuseApprovals`) answers at once with a refusal. Others: a background child's gate
 * parks its task in `input_required` (src/tasks/task-approvals.ts), chat asks in the terminal
 * (src/cli/chat-approvals.ts), `legate acp` asks the editor (src/acp/editor-approvals.ts).
 */
export interface ApprovalGate {
  request(request: ApprovalRequest, signal?: AbortSignal): Promise<ApprovalAnswer>;
}

/** Refuses every request: the refusal's reason is the policy's. */
export const refuseApprovals: ApprovalGate = {
  async request(request) {
    return { approved: false, reason: request.reason };
  },
};

/**
 * Apply `decision`: return when the call may go ahead, throw `sandbox_denied` with the reason
 * otherwise. An `ask` goes to `gate` first.
 */
export async function enforce(decision: SandboxDecision, request: SandboxRequest, mode: SandboxMode, gate: ApprovalGate, signal?: AbortSignal): Promise<void> {
  if (decision.verdict === 'allow') return;
  if (decision.verdict === 'ask') {
    const answer = await gate.request({ request, mode, reason: decision.reason }, signal);
    if (answer.approved) return;
    throw new LegateError('sandbox_denied', answer.reason, { mode });
  }
  throw new LegateError('sandbox_denied', decision.reason, { mode });
}
