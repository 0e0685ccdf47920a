/**
 * Drawing the matches: CSS Custom Highlights over DOM Ranges, as the
 * authorship overlay does (editor/authorship). Nothing is written into the
 * document: the other people, the undo history and exports never see it.
 *
 * ``cd-find`` holds the matches drawn (at most {@link MAX_HIGHLIGHTS},
 * those nearest the current one: making a Range costs a walk to its
 * leaf), ``cd-find-current`` the current one. Their colours are in
 * find.css. Without the Highlight API (an old browser) nothing is
 * drawn; the count and the scrolling still work.
 *
 * @module editor/find/highlight
 */

import { domPoint } from "../dom-point.js";

/** The most matches drawn at once. */
export const MAX_HIGHLIGHTS = 1000;

export const MATCHES = "cd-find";
export const CURRENT = "cd-find-current";

/** Whether the browser has the CSS Custom Highlight API. */
export function highlightsSupported() {
  return typeof CSS !== "undefined" && "highlights" in CSS && typeof Highlight === "function";
}

/**
 * Return a DOM Range over ``match`` in ``quill``'s editor, or null.
 * @param {any} quill
 * @param {import("./search.js").Match} match
 * @returns {Range|null}
 */
export function rangeOf(quill, match) {
  // Past the end of a leaf, getLeaf gives the next one: ask for the last
  // character's leaf and step past it, so a match ending a line ends there.
  const from = domPoint(quill, match.index);
  const last = domPoint(quill, match.index + match.length - 1);
  if (!from || !last) return null;
  const range = new Range();
  try {
    range.setStart(from[0], from[1]);
    range.setEnd(last[0], last[1] + 1);
  } catch {
    return null;
  }
  return range;
}

/**
 * Draw ``matches`` around ``current`` (a position in them, -1 for none).
 * @param {any} quill
 * @param {import("./search.js").Match[]} matches
 * @param {number} current
 * @returns {number} how many were drawn
 */
export function paint(quill, matches, current) {
  if (!highlightsSupported()) return 0;
  const half = Math.floor(MAX_HIGHLIGHTS / 2);
  const from = Math.max(0, Math.min((current < 0 ? 0 : current) - half, matches.length - MAX_HIGHLIGHTS));
  const to = Math.min(matches.length, from + MAX_HIGHLIGHTS);
  /** @type {Range[]} */
  const ranges = [];
  for (let i = from; i < to; i += 1) {
    const range = rangeOf(quill, matches[i]);
    if (range) ranges.push(range);
  }
  CSS.highlights.set(MATCHES, new Highlight(...ranges));
  const range = current >= 0 && matches[current] ? rangeOf(quill, matches[current]) : null;
  if (range) CSS.highlights.set(CURRENT, new Highlight(range));
  else CSS.highlights.delete(CURRENT);
  return ranges.length;
}

/** Remove the drawing. */
export function clear() {
  if (!highlightsSupported()) return;
  CSS.highlights.delete(MATCHES);
  CSS.highlights.delete(CURRENT);
}
