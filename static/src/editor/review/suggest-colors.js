/**
 * One colour per person: the presence colour the server gives each user
 * (realtime/presence.py ``user_color``, the same palette and step), drawn
 * on their suggestions through per-author CSS rules (``--suggest-color``).
 *
 * @module editor/review/suggest-colors
 */

/** The server's palette (realtime/presence.py PALETTE), in its order. */
export const PALETTE = [
  "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6",
  "#469990", "#9a6324", "#800000", "#808000", "#000075", "#e6beff", "#ffe119",
  "#aaffc3", "#bfef45", "#fabed4", "#dcbeff", "#fffac8", "#a9a9a9",
];

/**
 * Return the colour of user ``id``: the same as their cursor's.
 * @param {number} id
 */
export function userColor(id) {
  return PALETTE[(id * 7) % PALETTE.length];
}

/** The review marks whose author is drawn in colour. */
const MARKED = ["suggest-insert", "suggest-delete", "suggest-format"];

/**
 * Return the CSS rules that colour ``authorId``'s suggestions.
 * @param {number} authorId
 */
export function authorRules(authorId) {
  const selectors = [];
  for (const name of MARKED) {
    selectors.push(`[data-${name}^="${authorId}:"]`, `[data-line-${name}^="${authorId}:"]`);
  }
  return `${selectors.join(", ")} { --suggest-color: ${userColor(authorId)}; }`;
}

/**
 * Keeps one stylesheet with a rule per author seen in the editor. The page's
 * Content-Security-Policy refuses inline ``<style>`` text, so the sheet is
 * a constructed one (CSSOM, which the policy does not govern), adopted by
 * the document.
 */
export class AuthorColors {
  /** @param {Document} doc */
  constructor(doc = document) {
    this.sheet = new CSSStyleSheet();
    doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, this.sheet];
    /** @type {Set<number>} */
    this.known = new Set();
  }

  /**
   * Make sure each of ``authors`` has its colour rule.
   * @param {Iterable<number>} authors
   */
  ensure(authors) {
    for (const id of authors) {
      if (this.known.has(id) || !Number.isSafeInteger(id)) continue;
      this.known.add(id);
      this.sheet.insertRule(authorRules(id), this.sheet.cssRules.length);
    }
  }
}
