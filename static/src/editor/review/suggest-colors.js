/**
 * One colour per person: the colour the server gives each user
 * (documents/people.py ``user_color``, learned in editor/colors.js), drawn
 * on their suggestions through per-author CSS rules (``--suggest-color``).
 *
 * The client picks no colour. A person's colour is a custom property,
 * ``--person-<id>``, declared on ``:root`` for every colour the page has
 * learned; a suggestion's colour refers to it (grey until it is known), so
 * marks and cards drawn before the colour arrived take it as soon as it
 * does, without being drawn again.
 *
 * @module editor/review/suggest-colors
 */
import { UNKNOWN_COLOR, peopleColors } from "../colors.js";

/**
 * Return the CSS colour of user ``id``: the same as their cursor's once
 * the server's colour is known (a ``var()``, for CSS properties only).
 * @param {number} id
 */
export function userColor(id) {
  return Number.isSafeInteger(id) ? `var(--person-${id}, ${UNKNOWN_COLOR})` : UNKNOWN_COLOR;
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
 * Return the ``:root`` rule declaring every learned colour.
 * @param {Iterable<[number, string]>} colors  ``[id, "#rrggbb"]`` pairs
 */
export function personRule(colors) {
  const declarations = [...colors].map(([id, color]) => `--person-${id}: ${color};`);
  return `:root { ${declarations.join(" ")} }`;
}

/**
 * Keeps one stylesheet with the people's colours and a rule per author seen
 * in the editor. The page's Content-Security-Policy refuses inline
 * ``<style>`` text, so the sheet is a constructed one (CSSOM, which the
 * policy does not govern), adopted by the document.
 */
export class AuthorColors {
  /**
   * @param {Document} doc
   * @param {import("../colors.js").PeopleColors} colors
   */
  constructor(doc = document, colors = peopleColors) {
    this.sheet = new CSSStyleSheet();
    doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, this.sheet];
    /** @type {Set<number>} */
    this.known = new Set();
    this.colors = colors;
    // Rule 0 is the :root rule, replaced whenever a colour is learned.
    this.sheet.insertRule(personRule(colors.byId), 0);
    colors.onLearn(() => {
      this.sheet.deleteRule(0);
      this.sheet.insertRule(personRule(this.colors.byId), 0);
    });
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
