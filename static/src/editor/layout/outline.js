/**
 * The outline: the document's headings, in order, from its content.
 *
 * {@link headingsOf} is pure (tests/js/layout_outline.test.mjs); the panel
 * ({@link Outline}) draws them into ``#doc-outline``, indented by level,
 * and jumps to a heading on click.
 *
 * @module editor/layout/outline
 */

/**
 * @typedef {Object} Heading
 * @property {number} level  1, 2 or 3 (the schema's header levels)
 * @property {string} text   the heading's text (embeds left out), trimmed
 * @property {number} index  where its line starts (Quill units)
 */

import SCHEMA from "../../../../realtime/ot/schema.json" with { type: "json" };

/** Embeds that are lines of their own (a rule, a page break, a video). */
const BLOCK_EMBEDS = new Set(
  Object.entries(/** @type {Record<string, {scope?: string}>} */ (SCHEMA.embeds))
    .filter(([, spec]) => spec.scope === "block")
    .map(([name]) => name),
);

/** Longest heading text the outline shows. */
const MAX_TEXT = 120;

/**
 * Return the headings of ``ops`` (a document's content), in order.
 * Empty headings are left out.
 * @param {Array<{insert?: unknown, attributes?: Record<string, unknown>}>} ops
 * @returns {Heading[]}
 */
export function headingsOf(ops) {
  /** @type {Heading[]} */
  const out = [];
  let lineStart = 0;
  let position = 0;
  let text = "";
  for (const op of ops) {
    const insert = op.insert;
    if (typeof insert !== "string") {
      position += 1; // an embed: no text
      const [name] = insert && typeof insert === "object" ? Object.keys(insert) : [];
      if (BLOCK_EMBEDS.has(name)) {
        // A line of its own: the next line starts after it.
        lineStart = position;
        text = "";
      }
      continue;
    }
    let from = 0;
    for (let at = insert.indexOf("\n"); at !== -1; at = insert.indexOf("\n", from)) {
      text += insert.slice(from, at);
      const level = op.attributes?.header;
      const trimmed = text.replace(/\s+/g, " ").trim();
      if (typeof level === "number" && trimmed) {
        out.push({ level, text: trimmed.length > MAX_TEXT ? `${trimmed.slice(0, MAX_TEXT - 1)}…` : trimmed, index: lineStart });
      }
      position += at - from + 1;
      lineStart = position;
      text = "";
      from = at + 1;
    }
    text += insert.slice(from);
    position += insert.length - from;
  }
  return out;
}

/** Whether two outlines are the same (the panel redraws only on a change). */
export function sameHeadings(a, b) {
  return a.length === b.length && a.every((h, i) => h.level === b[i].level && h.text === b[i].text && h.index === b[i].index);
}

/**
 * The outline panel in ``#doc-outline``.
 */
export class Outline {
  /**
   * @param {{element: HTMLElement, onJump: (index: number) => void}} options
   */
  constructor({ element, onJump }) {
    this.element = element;
    this.onJump = onJump;
    /** @type {Heading[]} */
    this.headings = [];
    this.element.replaceChildren();
    const title = document.createElement("h2");
    title.className = "doc-outline-title";
    title.textContent = "Outline";
    this.list = document.createElement("ol");
    this.list.className = "doc-outline-list";
    this.empty = document.createElement("p");
    this.empty.className = "doc-outline-empty";
    this.empty.textContent = "Headings you add appear here.";
    this.element.append(title, this.empty, this.list);
    this.list.addEventListener("click", (event) => {
      const target = event.target instanceof Element ? event.target.closest("button[data-index]") : null;
      if (!(target instanceof HTMLButtonElement)) return;
      this.onJump(Number(target.dataset.index));
    });
  }

  /**
   * Show ``headings`` (a no-op when they did not change).
   * @param {Heading[]} headings
   */
  show(headings) {
    if (sameHeadings(headings, this.headings)) return;
    this.headings = headings;
    this.empty.hidden = headings.length > 0;
    this.list.replaceChildren(
      ...headings.map((heading) => {
        const item = document.createElement("li");
        item.className = `doc-outline-item level-${heading.level}`;
        const button = document.createElement("button");
        button.type = "button";
        button.dataset.index = String(heading.index);
        button.textContent = heading.text;
        button.title = heading.text;
        item.append(button);
        return item;
      }),
    );
  }
}
