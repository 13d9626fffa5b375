import { describe, expect, test } from 'vitest';
import { questionFor } from '../../src/cli/chat-approvals.js';
import { domainDecision, inDomain } from '../../src/tools/web/domain-rules.js';
import { HostLimiter } from '../../src/tools/web/host-limiter.js';
import { htmlToMarkdown } from '../../src/tools/web/html-to-markdown.js';

describe('web domain rules', () => {
  test.each([
    ['example.com', 'example.com', true],
    ['docs.example.com', 'example.com', true],
    ['DOCS.Example.COM.', 'example.com', true],
    ['a.b.example.com', '.example.com', true],
    ['badexample.com', 'example.com', false],
    ['example.com.evil.net', 'example.com', false],
    ['example.com', 'docs.example.com', false],
  ])('%s in %s: %s', (host, domain, expected) => {
    expect(inDomain(host, domain)).toBe(expected);
  });

  test('blocked domains are refused, hosts outside allowed domains are asked, others allowed', () => {
    const rules = { allowedDomains: ['python.org', 'example.com'], blockedDomains: ['ads.example.com'] };
    expect(domainDecision('docs.python.org', rules)).toEqual({ verdict: 'allow' });
    expect(domainDecision('x.ads.example.com', rules)).toEqual({
      verdict: 'deny',
      reason: 'web request to host x.ads.example.com refused: it is in web.blocked_domains (ads.example.com)',
    });
    expect(domainDecision('evil.net', rules)).toMatchObject({
      verdict: 'ask',
      reason: expect.stringContaining('outside web.allowed_domains (python.org, example.com)'),
    });
    expect(domainDecision('evil.net', { allowedDomains: [], blockedDomains: [] })).toEqual({ verdict: 'allow' });
  });
});

describe('host limiter', () => {
  test('at most perHost at once on one host, in order; other hosts do not wait; a waiter can give up', async () => {
    const limiter = new HostLimiter(2);
    const signal = new AbortController().signal;
    const first = await limiter.acquire('a.example', signal);
    const second = await limiter.acquire('a.example', signal);
    const order: string[] = [];
    const queued = (name: string) =>
      limiter.acquire('a.example', signal).then((release) => {
        order.push(name);
        return release;
      });
    const third = queued('third');
    const fourth = queued('fourth');
    const other = await limiter.acquire('b.example', signal);
    expect(limiter.running('a.example')).toBe(2);
    const giveUp = new AbortController();
    const abandoned = limiter.acquire('a.example', giveUp.signal);
    giveUp.abort(new Error('gave up'));
    await expect(abandoned).rejects.toThrow('gave up');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual([]);
    first();
    first(); // a second release frees nothing more
    (await third)();
    second();
    (await fourth)();
    expect(order).toEqual(['third', 'fourth']);
    expect(limiter.running('a.example')).toBe(0);
    other();
    expect(limiter.running('b.example')).toBe(0);
  });
});

describe('html to markdown', () => {
  test('a page too short to be an article: its body without navigation, scripts and footer', async () => {
    const page = await htmlToMarkdown(
      '<html><head><title>Short</title><script>var SCRIPT_X = 1</script></head><body><nav>NAV-X</nav><p>Just <em>one</em> line, see <a href="/x">x</a>.</p><footer>FOOT-X</footer></body></html>',
      'https://site.example/dir/page',
    );
    expect(page.title).toBe('Short');
    expect(page.markdown).toContain('Just _one_ line, see [x](https://site.example/x).');
    for (const junk of ['SCRIPT_X', 'NAV-X', 'FOOT-X']) expect(page.markdown).not.toContain(junk);
  });
});

describe('chat approval of a fetch', () => {
  test('a web_fetch outside web.allowed_domains is asked as a URL to fetch', () => {
    const reason = 'web request to host evil.net refused: it is outside web.allowed_domains (example.org)';
    expect(questionFor({ request: { kind: 'network', command: 'web_fetch https://evil.net/x' }, mode: 'read-only', reason })).toEqual({
      title: 'legate asks to fetch this URL, outside web.allowed_domains (read-only)',
      subject: 'web_fetch https://evil.net/x',
      reason,
      sessionScope: 'this URL',
    });
  });
});
