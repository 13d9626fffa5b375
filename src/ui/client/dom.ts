/**
 * Building the page's elements. Every piece of data goes in as a text node (`textContent`), never
 * as HTML: model output that contains `<script>` shows as those characters.
 */

export type Child = Node | string | number | undefined | null | false;

/** `<tag attrs…>children…</tag>`; string children become text nodes. Attributes are set with setAttribute (never `on…` handlers). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    if (name.startsWith('on')) throw new Error(`el: event attributes are not set this way (${name})`);
    node.setAttribute(name, value);
  }
  append(node, ...children);
  return node;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Replace every child of `node` with `children`. */
export function replace(node: Element, ...children: Child[]): void {
  node.replaceChildren();
  append(node, ...children);
}

/** A link to a route of this page (`#/task/ID`). */
export function link(route: string, text: string): HTMLAnchorElement {
  return el('a', { href: `#${route}` }, text);
}

export function button(text: string, onClick: () => void, attrs: Record<string, string | undefined> = {}): HTMLButtonElement {
  const node = el('button', { type: 'button', ...attrs }, text);
  node.addEventListener('click', onClick);
  return node;
}

/** A status badge. */
export function badge(status: string): HTMLSpanElement {
  return el('span', { class: `status ${status}` }, status);
}

/** A notice line (an action's outcome). */
export function notice(target: Element, ok: boolean, text: string): void {
  replace(target, el('div', { class: `notice ${ok ? 'ok' : 'bad'}`, role: 'status' }, text));
}
