import { createHash } from 'node:crypto';

/**
 * Anthropic's prompt cache as its documentation describes it (docs.claude.com/en/docs/build-with-claude/prompt-caching),
 * for the scripted server's usage: a request's prefix is tools, then system, then messages, block by
 * block; each block with `cache_control` is a breakpoint, and writes the prefix up to it. At each
 * breakpoint the cache is checked at that block boundary and up to 20 boundaries before it (the
 * documented lookback); the longest prefix found is read from the cache, the tokens from there to the
 * request's last breakpoint are written, the rest is plain input. Tokens are
 * counted as the characters of each block's JSON / 4. The cache is per server (one organisation) and
 * never expires (the 5-minute TTL is longer than any test).
 */
export class PromptCacheModel {
  private readonly written = new Set<string>();

  /** The usage split of one Messages request body, recording what it writes. */
  usageOf(body: any): { inputTokens: number; cacheReadTokens: number; cacheWriteTokens: number } {
    const blocks = prefixBlocks(body);
    const hash = createHash('sha256');
    const boundaries: { key: string; tokens: number }[] = [];
    let tokens = 0;
    let readUpTo = 0;
    let lastBreakpoint = 0;
    const prefixes: string[] = [];
    for (const block of blocks) {
      // Where a breakpoint is does not change the prefix's bytes: `cache_control` is left out of the hash.
      const { cache_control: breakpoint, ...rest } = block as { cache_control?: unknown };
      const text = JSON.stringify(rest);
      hash.update(text);
      tokens += Math.ceil(text.length / 4);
      const key = hash.copy().digest('hex');
      boundaries.push({ key, tokens });
      if (breakpoint) {
        for (const boundary of boundaries.slice(-21)) if (this.written.has(boundary.key)) readUpTo = Math.max(readUpTo, boundary.tokens);
        lastBreakpoint = tokens;
        prefixes.push(key);
      }
    }
    for (const key of prefixes) this.written.add(key);
    return { inputTokens: tokens - lastBreakpoint, cacheReadTokens: readUpTo, cacheWriteTokens: lastBreakpoint - readUpTo };
  }
}

/** The request's blocks in cache order: tools, system (a string counts as one block), each message's content blocks. */
function prefixBlocks(body: any): unknown[] {
  const blocks: unknown[] = [...(Array.isArray(body?.tools) ? body.tools : [])];
  if (typeof body?.system === 'string') blocks.push({ type: 'text', text: body.system });
  else if (Array.isArray(body?.system)) blocks.push(...body.system);
  for (const message of Array.isArray(body?.messages) ? body.messages : []) {
    if (typeof message?.content === 'string') blocks.push({ role: message.role, type: 'text', text: message.content });
    else for (const block of Array.isArray(message?.content) ? message.content : []) blocks.push({ role: message.role, ...block });
  }
  return blocks;
}
