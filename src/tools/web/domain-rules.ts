import { bareHost } from './address-guard.js';

/** `host` is `domain` or one of its subdomains (`docs.example.com` matches `example.com`; `badexample.com` does not). */
export function inDomain(host: string, domain: string): boolean {
  const bare = bareHost(host).replace(/\.$/, '');
  const base = bareHost(domain)
    .replace(/^\*?\./, '')
    .replace(/\.$/, '');
  return base !== '' && (bare === base || bare.endsWith(`.${base}`));
}

/**
 * Whether legate may fetch from `host` by the domain lists: `deny` for a host in
 * `web.blocked_domains`, `ask` for one outside a non-empty `web.allowed_domains` (a human may
 * approve it where approvals exist), else `allow`. Pure; reasons name the host and the setting.
 */
export function domainDecision(
  host: string,
  rules: { allowedDomains: readonly string[]; blockedDomains: readonly string[] },
): { verdict: 'allow' } | { verdict: 'deny' | 'ask'; reason: string } {
  const blocked = rules.blockedDomains.find((domain) => inDomain(host, domain));
  if (blocked) return { verdict: 'deny', reason: `web request to host ${bareHost(host)} refused: it is in web.blocked_domains (${blocked})` };
  if (rules.allowedDomains.length > 0 && !rules.allowedDomains.some((domain) => inDomain(host, domain))) {
    return {
      verdict: 'ask',
      reason:
        `web request to host ${bareHost(host)} refused: it is outside web.allowed_domains (${rules.allowedDomains.join(', ')}); ` +
        `add it to web.allowed_domains, or have a human approve it (agent.approval: on-request)`,
    };
  }
  return { verdict: 'allow' };
}
