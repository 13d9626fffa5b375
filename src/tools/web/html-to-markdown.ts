import type { NodeHtmlMarkdown } from 'node-html-markdown';

/*
 * HTML to Markdown: `node-html-markdown`, after a readability pass (`@mozilla/readability` on a
 * `linkedom` document). Compared with `turndown` on the same article (headings, links, inline
 * code, a list, a fenced code block and a table, both after readability):
 * - tables: node-html-markdown writes a Markdown table; turndown (without the separate
 *   turndown-plugin-gfm) flattens it into one paragraph per cell, losing the rows.
 * - the rest came out the same (ATX headings, `**bold**`, `[text](url)`, fenced code) once turndown
 *   is told `headingStyle: 'atx', codeBlockStyle: 'fenced'`; node-html-markdown needs no options.
 * - both re-parse the HTML (turndown with domino, node-html-markdown with node-html-parser), at
 *   about the same speed (15-18 ms for a small page, first call included); neither has an
 *   install script.
 * So node-html-markdown: tables without a plugin, and no options to get right.
 */

/**
 * The three libraries, loaded at the first page converted: linkedom alone is ~400 modules, and every
 * `legate` command would otherwise pay for them at startup (0.4 s more CPU for `legate --version`).
 */
interface Converters {
  parseHTML: (html: string) => { document: Document };
  Readability: new (document: Document, options: { charThreshold: number }) => { parse(): { title?: string | null; content?: string | null } | null };
  markdown: NodeHtmlMarkdown;
}
let converters: Promise<Converters> | undefined;
function loadConverters(): Promise<Converters> {
  converters ??= Promise.all([import('linkedom'), import('@mozilla/readability'), import('node-html-markdown')]).then(([linkedom, readability, nhm]) => ({
    parseHTML: linkedom.parseHTML as unknown as Converters['parseHTML'],
    Readability: readability.Readability as unknown as Converters['Readability'],
    markdown: new nhm.NodeHtmlMarkdown({ maxConsecutiveNewlines: 2 }),
  }));
  return converters;
}

/** Elements that are never a page's content. */
const CHROME = 'script, style, noscript, template, svg, iframe, nav, header, footer, aside, form, button';

/** The page's title and its main content as Markdown (links absolute against `url`). */
export async function htmlToMarkdown(html: string, url: string): Promise<{ title: string; markdown: string }> {
  const { parseHTML, Readability, markdown } = await loadConverters();
  const { document } = parseHTML(html);
  absolutizeLinks(document, url);
  const title = (document.querySelector('title')?.textContent ?? '').trim();
  // Readability keeps a short page's navigation and footer with its text: take the chrome out first.
  for (const element of document.querySelectorAll(CHROME)) {
    if (element.tagName.toLowerCase() === 'header' && element.closest('article, main')) continue; // an article's own header holds its heading
    element.remove();
  }
  // Readability changes the document it reads: give it its own copy, so the fallback reads the original.
  const article = readable(Readability, parseHTML(document.toString()).document);
  if (article && article.content.trim() !== '') {
    // Readability takes the article's heading out of its content as its title: put it back on top.
    const heading = article.title?.trim() ?? '';
    const text = markdown.translate(article.content).trim();
    const headed = heading && !text.startsWith(`# ${heading}`) ? `# ${heading}\n\n${text}` : text;
    return { title: title || heading, markdown: headed };
  }
  // Nothing readability calls content: the body, without the page's chrome.
  const body = document.querySelector('body')?.innerHTML ?? document.toString();
  return { title, markdown: markdown.translate(body).trim() };
}

function readable(Readability: Converters['Readability'], document: Document): { title?: string | null; content: string } | null {
  try {
    const article = new Readability(document, { charThreshold: 200 }).parse();
    return article && typeof article.content === 'string' ? { title: article.title ?? null, content: article.content } : null;
  } catch {
    // a page readability cannot walk: the fallback converts the body
    return null;
  }
}

/** Make `href` and `src` attributes absolute (linkedom has no base URL for readability to use). */
function absolutizeLinks(document: Document, url: string): void {
  for (const [selector, attribute] of [
    ['a[href]', 'href'],
    ['img[src]', 'src'],
  ] as const) {
    for (const element of document.querySelectorAll(selector)) {
      const value = element.getAttribute(attribute);
      if (value === null || value.startsWith('#')) continue;
      try {
        element.setAttribute(attribute, new URL(value, url).href);
      } catch {
        // not a URL: left as written
      }
    }
  }
}
