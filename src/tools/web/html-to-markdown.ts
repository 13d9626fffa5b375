import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { NodeHtmlMarkdown } from 'node-html-markdown';

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

const markdown = new NodeHtmlMarkdown({ maxConsecutiveNewlines: 2 });

/** Elements that are never a page's content. */
const CHROME = 'script, style, noscript, template, svg, iframe, nav, header, footer, aside, form, button';

/** The page's title and its main content as Markdown (links absolute against `url`). */
export function htmlToMarkdown(html: string, url: string): { title: string; markdown: string } {
  const { document } = parseHTML(html);
  absolutizeLinks(document, url);
  const title = (document.querySelector('title')?.textContent ?? '').trim();
  // Readability keeps a short page's navigation and footer with its text: take the chrome out first.
  for (const element of document.querySelectorAll(CHROME)) {
    if (element.tagName.toLowerCase() === 'header' && element.closest('article, main')) continue; // an article's own header holds its heading
    element.remove();
  }
  // Readability changes the document it reads: give it its own copy, so the fallback reads the original.
  const article = readable(parseHTML(document.toString()).document);
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

function readable(document: Document): { title?: string | null; content: string } | null {
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
