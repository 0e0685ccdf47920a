/**
 * Words and tokens of comment threads: relative times, ``@mentions`` in a
 * message body, the mention being typed before the caret, a quote from
 * the selection. Pure (no DOM): node tests cover it.
 *
 * Mentions follow the server (review/mentions.py): an at sign not after a
 * word character or another at sign, then Django's username characters
 * (letters, digits, the at sign, dot, plus, minus, underscore). Trailing
 * dots, pluses, minuses and at signs are sentence punctuation more often
 * than part of a name, so they are not drawn as part of it.
 *
 * @module editor/review/text
 */

/** The longest quote a thread stores (the API's limit). */
export const QUOTE_MAX = 1000;

const MENTION = /(?<![\p{L}\p{N}_@])@([\p{L}\p{N}_.@+-]{1,150})/gu;
const TYPING = /(?<![\p{L}\p{N}_@])@([\p{L}\p{N}_.+-]{0,150})$/u;

/**
 * Split a message body into plain text and mentions, for drawing.
 * @param {string} body
 * @returns {Array<{text: string, mention: boolean}>}
 */
export function bodyParts(body) {
  /** @type {Array<{text: string, mention: boolean}>} */
  const parts = [];
  let last = 0;
  for (const match of body.matchAll(MENTION)) {
    const name = match[1].replace(/[.+\-@]+$/u, "");
    if (!name) continue;
    const start = /** @type {number} */ (match.index);
    if (start > last) parts.push({ text: body.slice(last, start), mention: false });
    parts.push({ text: `@${name}`, mention: true });
    last = start + 1 + name.length;
  }
  if (last < body.length) parts.push({ text: body.slice(last), mention: false });
  return parts;
}

/**
 * Return the mention being typed just before ``caret`` in ``value``
 * (``{start, query}``, start at the ``@``), or null.
 * @param {string} value
 * @param {number} caret
 * @returns {{start: number, query: string}|null}
 */
export function mentionAt(value, caret) {
  const match = TYPING.exec(value.slice(0, caret));
  if (!match) return null;
  return { start: /** @type {number} */ (match.index), query: match[1] };
}

/**
 * Return ``value`` with the mention typed at ``start`` (up to ``caret``)
 * replaced by ``@username `` and where the caret goes after it.
 * @param {string} value
 * @param {number} start
 * @param {number} caret
 * @param {string} username
 * @returns {{value: string, caret: number}}
 */
export function insertMention(value, start, caret, username) {
  const after = value.slice(caret);
  const spaced = /^\s/.test(after) ? "" : " ";
  const inserted = `@${username}${spaced}`;
  return { value: value.slice(0, start) + inserted + after, caret: start + inserted.length };
}

/**
 * Return the quote stored for a selection's text: at most
 * {@link QUOTE_MAX} characters, trailing line ends dropped, never cutting
 * a surrogate pair.
 * @param {string} text
 */
export function quoteOf(text) {
  let quote = text.replace(/\n+$/, "");
  if (quote.length > QUOTE_MAX) {
    quote = quote.slice(0, QUOTE_MAX);
    const code = quote.charCodeAt(quote.length - 1);
    if (code >= 0xd800 && code <= 0xdbff) quote = quote.slice(0, -1);
  }
  return quote;
}

/**
 * Return how long ago ``iso`` was, for people ("just now", "5 min ago",
 * "3 h ago", "yesterday", else the date).
 * @param {string|null} iso
 * @param {number} [now]  ms since the epoch
 */
export function timeAgo(iso, now = Date.now()) {
  const at = iso ? Date.parse(iso) : Number.NaN;
  if (!Number.isFinite(at)) return "";
  const seconds = Math.max(0, (now - at) / 1000);
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  if (hours < 48) return "yesterday";
  const date = new Date(at);
  const sameYear = date.getUTCFullYear() === new Date(now).getUTCFullYear();
  return (sameYear ? DAY : DAY_YEAR).format(date);
}

// Made once: a formatter per call is slow (hundreds of threads).
const DAY = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const DAY_YEAR = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
