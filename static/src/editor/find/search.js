/**
 * Find and replace as pure functions over the document's text and delta:
 * the matches of a query, the match to go to, and the one change that
 * replaces them. No DOM, no Quill: the node tests import it directly.
 *
 * Positions are Quill's: UTF-16 code units of the document, an embed
 * counting 1 (U+FFFC in {@link documentText}, which no query matches).
 *
 * Bounds: at most {@link MAX_MATCHES} matches are counted and reachable
 * ("100,000+" beyond), so a one-letter query on a large document never
 * holds the page for long; the highlighting draws fewer still (index.js).
 *
 * @module editor/find/search
 */

/** The most matches counted, reached by next/previous and replaced at once. */
export const MAX_MATCHES = 100_000;

/** The longest query (longer ones are refused, not cut). */
export const MAX_QUERY = 1000;

/**
 * Review attributes a replacement never copies from the text it replaces:
 * the suggestion marks are someone's proposal about that text, not a
 * format (review/suggest-rewrite.js).
 */
const NOT_COPIED = new Set(["suggest-insert", "suggest-delete", "suggest-format"]);

/** Characters of a word, for "whole word" (as the undo steps' words). */
const WORD_CLASS = "[\\p{L}\\p{N}\\p{M}_]";

/**
 * @typedef {{matchCase?: boolean, wholeWord?: boolean}} FindOptions
 * @typedef {{index: number, length: number}} Match
 * @typedef {{matches: Match[], capped: boolean}} Found
 */

/**
 * Return the text of a document delta's ops, an embed as U+FFFC, so that
 * an index in it is an index in the document.
 * @param {Array<{insert?: unknown}>} ops
 */
export function documentText(ops) {
  let text = "";
  for (const op of ops) text += typeof op.insert === "string" ? op.insert : "\uFFFC";
  return text;
}

/**
 * Return the regular expression finding ``query`` literally, or null for
 * an empty query.
 * @param {string} query
 * @param {FindOptions} [options]
 * @returns {RegExp|null}
 * @throws {RangeError} when the query is longer than {@link MAX_QUERY}
 */
export function compileQuery(query, { matchCase = false, wholeWord = false } = {}) {
  if (query.length === 0) return null;
  if (query.length > MAX_QUERY) throw new RangeError(`Search for at most ${MAX_QUERY} characters.`);
  const literal = query.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
  const source = wholeWord ? `(?<!${WORD_CLASS})${literal}(?!${WORD_CLASS})` : literal;
  return new RegExp(source, matchCase ? "gu" : "giu");
}

/**
 * Return the matches of ``query`` in ``text``, in order, at most ``limit``
 * (``capped`` says there were more).
 * @param {string} text
 * @param {string} query
 * @param {FindOptions} [options]
 * @param {number} [limit]
 * @returns {Found}
 */
export function findMatches(text, query, options = {}, limit = MAX_MATCHES) {
  const pattern = compileQuery(query, options);
  /** @type {Match[]} */
  const matches = [];
  if (pattern === null) return { matches, capped: false };
  for (let found = pattern.exec(text); found !== null; found = pattern.exec(text)) {
    if (matches.length === limit) return { matches, capped: true };
    matches.push({ index: found.index, length: found[0].length });
    // A literal query is never empty; step on anyway rather than loop.
    if (found[0].length === 0) pattern.lastIndex += 1;
  }
  return { matches, capped: false };
}

/**
 * Return the position in ``matches`` of the first match starting at or
 * after ``index``, wrapping to the first; -1 when there are none.
 * @param {Match[]} matches
 * @param {number} index
 */
export function matchAtOrAfter(matches, index) {
  if (matches.length === 0) return -1;
  let lo = 0;
  let hi = matches.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (matches[mid].index < index) lo = mid + 1;
    else hi = mid;
  }
  return lo === matches.length ? 0 : lo;
}

/**
 * Return the count shown in the bar: "3 of 12", "No results", "3 of 100,000+".
 * @param {number} current  position in the matches, -1 for none
 * @param {number} total
 * @param {boolean} capped
 */
export function countLabel(current, total, capped) {
  if (total === 0) return "No results";
  const of = `${total.toLocaleString("en-US")}${capped ? "+" : ""}`;
  return `${current < 0 ? 0 : current + 1} of ${of}`;
}

/**
 * Return the formats ``replacement`` takes from the text it replaces: its
 * first character's, without the suggestion marks.
 * @param {Record<string, unknown>|undefined} attributes
 * @returns {Record<string, unknown>|undefined}
 */
function copied(attributes) {
  if (!attributes) return undefined;
  const out = Object.fromEntries(Object.entries(attributes).filter(([name]) => !NOT_COPIED.has(name)));
  return Object.keys(out).length ? out : undefined;
}

/**
 * Return the ops of the one change replacing each of ``matches`` (in order,
 * not overlapping) in the document ``doc`` (a document delta's ops) with
 * ``replacement``, which takes the formats of the text it replaces, and
 * how many it replaces.
 *
 * Left alone: a match that is not ``text`` there (the document moved on
 * since the search: never replace other words), one inside an embed, and
 * one wholly proposed for deletion (``suggest-delete``: in Suggesting mode
 * the replaced text stays, struck, and must not be replaced twice).
 * @param {Array<{insert?: unknown, attributes?: Record<string, unknown>}>} doc
 * @param {Match[]} matches
 * @param {string} replacement
 * @param {(text: string) => boolean} isMatch  whether a piece of text is a match
 * @returns {{ops: Array<Record<string, unknown>>, count: number}}
 */
export function replaceOps(doc, matches, replacement, isMatch) {
  /** @type {Array<Record<string, unknown>>} */
  const ops = [];
  let opAt = 0; // doc op holding position ``opStart``
  let opStart = 0;
  let done = 0; // document position the change has reached
  let count = 0;
  const retain = (/** @type {number} */ n) => {
    if (n <= 0) return;
    const last = ops[ops.length - 1];
    if (last && typeof last.retain === "number" && !last.attributes) last.retain += n;
    else ops.push({ retain: n });
  };
  for (const match of matches) {
    if (match.index < done || match.length <= 0) continue;
    // Walk to the op holding the match's first character.
    while (opAt < doc.length && opStart + opLength(doc[opAt]) <= match.index) {
      opStart += opLength(doc[opAt]);
      opAt += 1;
    }
    // Read the match's text and whether all of it is struck.
    let text = "";
    let struck = true;
    let at = opAt;
    let start = opStart;
    while (at < doc.length && start < match.index + match.length) {
      const op = doc[at];
      const piece = typeof op.insert === "string" ? op.insert : "\uFFFC";
      text += piece.slice(Math.max(0, match.index - start), match.index + match.length - start);
      if (!op.attributes || op.attributes["suggest-delete"] == null) struck = false;
      start += piece.length;
      at += 1;
    }
    if (text.length !== match.length || text.includes("\uFFFC") || struck || !isMatch(text)) continue;
    retain(match.index - done);
    if (replacement) {
      const attributes = copied(doc[opAt]?.attributes);
      ops.push(attributes ? { insert: replacement, attributes } : { insert: replacement });
    }
    ops.push({ delete: match.length });
    done = match.index + match.length;
    count += 1;
  }
  return { ops: count ? ops : [], count };
}

/**
 * Return whether ``text``, all of it, is a match of ``query``.
 * @param {string} query
 * @param {FindOptions} options
 * @returns {(text: string) => boolean}
 */
export function matcher(query, options) {
  const pattern = compileQuery(query, options);
  if (pattern === null) return () => false;
  const whole = new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace("g", ""));
  return (text) => whole.test(text);
}

/**
 * @param {{insert?: unknown}} op
 */
function opLength(op) {
  return typeof op.insert === "string" ? op.insert.length : 1;
}
