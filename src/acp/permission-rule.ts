import type * as acp from '@agentclientprotocol/sdk';

/**
 * How legate answers an ACP child's `session/request_permission` for now: the first "allow"
 * option when the route sets `allow_permissions: true`, otherwise the first "reject" option
 * (`cancelled` when the agent offers none). A pure function; the sandbox/approvals work will route
 * these requests through approvals (to the user, or the editor over ACP) instead.
 */
export function permissionAnswer(options: readonly acp.PermissionOption[], allow: boolean): { allowed: boolean; outcome: acp.RequestPermissionOutcome } {
  const kinds: acp.PermissionOptionKind[] = allow ? ['allow_once', 'allow_always'] : ['reject_once', 'reject_always'];
  for (const kind of kinds) {
    const option = options.find((candidate) => candidate.kind === kind);
    if (option) return { allowed: allow, outcome: { outcome: 'selected', optionId: option.optionId } };
  }
  return { allowed: false, outcome: { outcome: 'cancelled' } };
}
