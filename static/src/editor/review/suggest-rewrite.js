/**
 * Suggesting mode, as a pure function: the person's raw change (what Quill
 * did) rewritten into the suggestion it means (contract §2, §3), plus the
 * correction that makes the editor show it. No DOM, no Quill.
 *
 * - An insert carries ``suggest-insert`` = a mark of the person; it reuses
 *   the mark of the person's own suggested insertion right before or after
 *   it (grouping: one suggestion while they type on), else a new mark.
 *   ``suggest-delete`` / ``suggest-format`` never ride on an insert.
 * - A delete of text the person suggested (own ``suggest-insert``) really
 *   deletes it (withdrawing their own words). Any other text is kept and
 *   marked ``suggest-delete`` (own adjacent deletion mark reused); text
 *   someone already proposed for deletion stays as it is.
 * - A format on the person's own suggested text applies directly; on any
 *   other text it becomes ``suggest-format`` = ``mark|{formats}``, merged
 *   into the person's existing proposal on that run; a proposal that ends
 *   up asking for what the text already has is withdrawn (null).
 * - ``comment`` marks pass through unchanged (the comments UI sets them).
 * - Typing over a selection puts the new text after the struck text, as a
 *   reader expects ("old" struck, "new" underlined).
 *
 * Everything a commenter's change may do is inside the server's policy
 * (realtime/ot/review.py ``policy_problem``); what is outside it cannot be
 * produced here.
 *
 * @module editor/review/suggest-rewrite
 */
import Delta, { AttributeMap, OpIterator } from "quill-delta";

/** The mark regex of the contract: "<uid>:<t base 36>:<random>". */
export const MARK_RE = /^([1-9][0-9]{0,11}):([0-9a-z]{1,10}):([0-9a-z]{4,12})$/;

/** The four review attributes (contract §2). */
export const SUGGEST_INSERT = "suggest-insert";
export const SUGGEST_DELETE = "suggest-delete";
export const SUGGEST_FORMAT = "suggest-format";
export const COMMENT = "comment";
const SUGGESTION_ATTRIBUTES = [SUGGEST_INSERT, SUGGEST_DELETE, SUGGEST_FORMAT];
const REVIEW_ATTRIBUTES = new Set([...SUGGESTION_ATTRIBUTES, COMMENT]);

/**
 * A parsed mark.
 * @typedef {{raw: string, author: number, atMs: number}} Mark
 */

/**
 * Return the parsed mark ``value`` (a suggest-format's part before "|"), or null.
 * @param {unknown} value
 * @returns {Mark|null}
 */
export function parseMark(value) {
  if (typeof value !== "string") return null;
  const raw = value.split("|", 1)[0];
  const match = MARK_RE.exec(raw);
  if (!match) return null;
  return { raw, author: Number(match[1]), atMs: parseInt(match[2], 36) };
}

/**
 * Return the proposed formats of a ``suggest-format`` value, or null.
 * @param {unknown} value
 * @returns {{mark: Mark, formats: Record<string, unknown>}|null}
 */
export function parseFormatSuggestion(value) {
  const mark = parseMark(value);
  if (!mark || typeof value !== "string") return null;
  try {
    const formats = JSON.parse(value.slice(mark.raw.length + 1));
    if (!formats || typeof formats !== "object" || Array.isArray(formats)) return null;
    return { mark, formats };
  } catch {
    return null;
  }
}

/**
 * Return a new mark of ``userId`` made now.
 * @param {number} userId
 * @param {{now?: () => number, random?: () => number}} [sources]
 */
export function newMark(userId, { now = Date.now, random = Math.random } = {}) {
  let r = "";
  for (let i = 0; i < 8; i += 1) r += Math.floor(random() * 36).toString(36);
  return `${userId}:${Math.max(0, Math.floor(now())).toString(36)}:${r}`;
}

/** Whether ``value`` is a mark (or format proposal) of ``userId``. */
export const isOwn = (value, userId) => parseMark(value)?.author === userId;

/**
 * Return ``attributes`` without the three suggestion marks (or undefined when empty).
 * @param {Record<string, unknown>|undefined} attributes
 */
function withoutSuggestions(attributes) {
  if (!attributes) return undefined;
  const out = { ...attributes };
  for (const name of SUGGESTION_ATTRIBUTES) delete out[name];
  return Object.keys(out).length ? out : undefined;
}

/**
 * The result of {@link rewriteSuggesting}.
 * @typedef {Object} Rewrite
 * @property {Delta} change  what to send (a change to ``old``)
 * @property {Delta} correction  what turns the editor's document (old with
 *   the raw change applied) into ``old.compose(change)``; empty when equal
 * @property {number|null} caret  where the caret goes after the correction
 *   (null: leave it): after the last inserted text, else before the first
 *   text proposed for deletion (a backspace)
 * @property {number|null} caretAfter  after the last text proposed for
 *   deletion (a forward delete), when the change only proposed deletions
 */

/**
 * Rewrite the person's raw change into a suggestion (see the module docstring).
 *
 * @param {Delta} old  the document before the change
 * @param {Delta} raw  what the editor did
 * @param {{userId: number, mark: () => string}} who  the person and a
 *   source of new marks
 * @returns {Rewrite}
 */
export function rewriteSuggesting(old, raw, { userId, mark }) {
  const change = new Delta();
  const correction = new Delta();
  const doc = new OpIterator(old.ops);
  /** Attributes of the last character of the new document so far. */
  let before = /** @type {Record<string, any>|undefined} */ (undefined);
  let newPos = 0; // position in the new (suggested) document
  let insertEnd = null;
  let deleteStart = null;
  let deleteEnd = null;
  /** The person's current marks, reused while this change goes on. */
  let insertMark = null;
  let deleteMark = null;
  const rawOps = reorder(raw.ops);

  const ownMarkAt = (attributes, name) => {
    const value = attributes?.[name];
    return isOwn(value, userId) ? String(value).split("|", 1)[0] : null;
  };

  for (let i = 0; i < rawOps.length; i += 1) {
    const op = rawOps[i];
    if (op.insert !== undefined) {
      if (!insertMark) {
        const peek = doc.peekLength() < Infinity ? doc.peek() : null;
        insertMark = ownMarkAt(before, SUGGEST_INSERT) || ownMarkAt(peek?.attributes, SUGGEST_INSERT) || mark();
      }
      const attributes = { ...(withoutSuggestions(op.attributes) || {}), [SUGGEST_INSERT]: insertMark };
      change.insert(op.insert, attributes);
      const length = typeof op.insert === "string" ? op.insert.length : 1;
      correction.retain(length, AttributeMap.diff(op.attributes || {}, attributes));
      before = attributes;
      newPos += length;
      insertEnd = newPos;
      continue;
    }
    let remaining = typeof op.retain === "number" ? op.retain : (op.delete ?? 1);
    while (remaining > 0) {
      if (doc.peekLength() === Infinity) {
        // Past the document's end (a malformed change): the server refuses
        // it as it stands; nothing here can make it meaningful.
        change.push(op.delete !== undefined ? { delete: remaining } : { retain: remaining });
        break;
      }
      const piece = doc.next(remaining);
      if (piece.insert === undefined) break;
      const length = typeof piece.insert === "string" ? piece.insert.length : 1;
      remaining -= length;
      const current = piece.attributes || {};
      if (op.delete !== undefined) {
        if (ownMarkAt(current, SUGGEST_INSERT)) {
          change.delete(length); // withdraw the person's own words
          continue;
        }
        if (!deleteMark) {
          const after = doc.peekLength() < Infinity ? doc.peek() : null;
          deleteMark =
            ownMarkAt(current, SUGGEST_DELETE) ||
            ownMarkAt(before, SUGGEST_DELETE) ||
            ownMarkAt(after?.attributes, SUGGEST_DELETE) ||
            mark();
        }
        const attributes = current[SUGGEST_DELETE] ? undefined : { [SUGGEST_DELETE]: deleteMark };
        change.retain(length, attributes);
        correction.insert(piece.insert, { ...current, ...(attributes || {}) });
        before = { ...current, ...(attributes || {}) };
        if (deleteStart === null) deleteStart = newPos;
        newPos += length;
        deleteEnd = newPos;
        continue;
      }
      if (!op.attributes) {
        change.retain(length);
        correction.retain(length);
      } else {
        const wanted = formatChange(current, op.attributes, userId, mark);
        change.retain(length, wanted);
        const shown = AttributeMap.compose(current, op.attributes) || {};
        const meant = AttributeMap.compose(current, wanted) || {};
        correction.retain(length, AttributeMap.diff(shown, meant));
      }
      before = current;
      newPos += length;
    }
  }
  const onlyDeletes = insertEnd === null && deleteStart !== null;
  return {
    change: change.chop(),
    correction: correction.chop(),
    caret: insertEnd ?? deleteStart,
    caretAfter: onlyDeletes ? deleteEnd : null,
  };
}

/**
 * Return the ops of ``raw`` with each insert that is directly followed by a
 * delete moved after it: typing over a selection suggests the new text
 * after the struck text.
 * @param {Array<Object>} ops
 */
function reorder(ops) {
  const out = ops.slice();
  for (let i = 0; i + 1 < out.length; i += 1) {
    if (out[i].insert !== undefined && out[i + 1].delete !== undefined) {
      [out[i], out[i + 1]] = [out[i + 1], out[i]];
      i += 1;
    }
  }
  return out;
}

/**
 * Return the attributes a suggesting person's format ``requested`` sets on
 * a run whose attributes are ``current``.
 * @param {Record<string, any>} current
 * @param {Record<string, any>} requested
 * @param {number} userId
 * @param {() => string} mark
 */
function formatChange(current, requested, userId, mark) {
  /** @type {Record<string, any>} */
  const out = {};
  /** @type {Record<string, any>} */
  const formats = {};
  for (const [name, value] of Object.entries(requested)) {
    if (name === COMMENT) out[name] = value;
    else if (!REVIEW_ATTRIBUTES.has(name)) formats[name] = value;
  }
  if (!Object.keys(formats).length) return Object.keys(out).length ? out : undefined;
  if (isOwn(current[SUGGEST_INSERT], userId)) return { ...out, ...formats }; // own words: format them
  const existing = isOwn(current[SUGGEST_FORMAT], userId) ? parseFormatSuggestion(current[SUGGEST_FORMAT]) : null;
  const proposal = { ...(existing?.formats || {}), ...formats };
  // What the text already has is no proposal: asking for it again withdraws it.
  for (const [name, value] of Object.entries(proposal)) {
    if ((current[name] ?? null) === value) delete proposal[name];
  }
  if (!Object.keys(proposal).length) {
    if (existing) out[SUGGEST_FORMAT] = null;
  } else {
    const raw = existing?.mark.raw || mark();
    out[SUGGEST_FORMAT] = `${raw}|${JSON.stringify(proposal)}`;
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * Return ``raw`` without the suggestion marks it would set in someone
 * else's name, and the correction for the editor; null when there were
 * none. The server refuses such a change from anyone ("suggestion marks
 * must be your own"): typing inside someone's suggestion in Editing mode,
 * pasting suggested text, an undo bringing back deleted suggested text.
 * An insert loses the mark; a retain leaves the text's mark as it was.
 * @param {Delta} old  the document before the change
 * @param {Delta} raw
 * @param {number} userId
 * @returns {{change: Delta, correction: Delta}|null}
 */
export function dropForeignMarks(old, raw, userId) {
  const foreign = (attributes) =>
    SUGGESTION_ATTRIBUTES.filter((name) => attributes?.[name] != null && !isOwn(attributes[name], userId));
  if (!raw.ops.some((op) => op.delete === undefined && foreign(op.attributes).length)) return null;
  const change = new Delta();
  const correction = new Delta();
  const doc = new OpIterator(old.ops);
  for (const op of raw.ops) {
    const names = op.delete === undefined ? foreign(op.attributes) : [];
    if (op.insert !== undefined) {
      const attributes = { ...(op.attributes || {}) };
      for (const name of names) delete attributes[name];
      const length = typeof op.insert === "string" ? op.insert.length : 1;
      change.insert(op.insert, Object.keys(attributes).length ? attributes : undefined);
      correction.retain(length, names.length ? Object.fromEntries(names.map((n) => [n, null])) : undefined);
      continue;
    }
    let remaining = typeof op.retain === "number" ? op.retain : (op.delete ?? 1);
    while (remaining > 0 && doc.peekLength() < Infinity) {
      const piece = doc.next(remaining);
      const length = typeof piece.insert === "string" ? piece.insert.length : 1;
      remaining -= length;
      if (op.delete !== undefined) {
        change.delete(length);
        continue;
      }
      const attributes = op.attributes ? { ...op.attributes } : undefined;
      /** @type {Record<string, unknown>} */
      const back = {};
      for (const name of names) {
        delete attributes?.[name];
        back[name] = piece.attributes?.[name] ?? null;
      }
      change.retain(length, attributes && Object.keys(attributes).length ? attributes : undefined);
      correction.retain(length, names.length ? back : undefined);
    }
    if (remaining > 0) change.push(op.delete !== undefined ? { delete: remaining } : { retain: remaining });
  }
  return { change: change.chop(), correction: correction.chop() };
}

/** Most comment threads one character may carry (contract §2). */
const MAX_THREADS = 10;

/**
 * Return ``raw`` with every comment mark it would take away kept, and the
 * correction for the editor; null when it takes none away. A commenter may
 * only add thread ids to a character (contract §3); an undo right after
 * commenting would take the new id away again, which the server refuses.
 * A run whose ids cannot all be kept (more than ten) keeps what it had.
 * @param {Delta} old  the document before the change
 * @param {Delta} raw
 * @returns {{change: Delta, correction: Delta}|null}
 */
export function keepCommentMarks(old, raw) {
  if (!raw.ops.some((op) => op.retain !== undefined && op.attributes && COMMENT in op.attributes)) return null;
  let changed = false;
  const change = new Delta();
  const correction = new Delta();
  const doc = new OpIterator(old.ops);
  for (const op of raw.ops) {
    if (op.insert !== undefined) {
      change.push(op);
      correction.retain(typeof op.insert === "string" ? op.insert.length : 1);
      continue;
    }
    let remaining = typeof op.retain === "number" ? op.retain : (op.delete ?? 1);
    while (remaining > 0 && doc.peekLength() < Infinity) {
      const piece = doc.next(remaining);
      const length = typeof piece.insert === "string" ? piece.insert.length : 1;
      remaining -= length;
      if (op.delete !== undefined || !op.attributes || !(COMMENT in op.attributes)) {
        change.push(op.delete !== undefined ? { delete: length } : { retain: length, ...(op.attributes ? { attributes: op.attributes } : {}) });
        if (op.delete === undefined) correction.retain(length);
        continue;
      }
      const had = String(piece.attributes?.[COMMENT] ?? "").split(" ").filter(Boolean);
      const asked = String(op.attributes[COMMENT] ?? "").split(" ").filter(Boolean);
      if (had.every((id) => asked.includes(id))) {
        change.retain(length, op.attributes);
        correction.retain(length);
        continue;
      }
      changed = true;
      const union = [...had, ...asked.filter((id) => !had.includes(id))];
      const kept = (union.length <= MAX_THREADS ? union : had).join(" ");
      /** @type {Record<string, unknown>} */
      const attributes = { ...op.attributes };
      if (kept === had.join(" ")) delete attributes[COMMENT]; // nothing to add: leave it
      else attributes[COMMENT] = kept;
      change.retain(length, Object.keys(attributes).length ? attributes : undefined);
      correction.retain(length, { [COMMENT]: kept });
    }
    if (remaining > 0) change.push(op.delete !== undefined ? { delete: remaining } : { retain: remaining });
  }
  return changed ? { change: change.chop(), correction: correction.chop() } : null;
}

/**
 * Return the smallest change with the effect of ``raw`` on ``old``: an undo
 * or redo in Suggesting mode replays "insert the struck text, delete the
 * struck text" where it means "drop the deletion mark"; the server's policy
 * judges the effect, so the effect is what is sent. Costs the size of the
 * changed region.
 * @param {Delta} old
 * @param {Delta} raw
 * @returns {Delta}
 */
export function minimalChange(old, raw) {
  let start = null;
  let oldEnd = 0;
  let pos = 0;
  for (const op of raw.ops) {
    const plain = typeof op.retain === "number" && !op.attributes;
    if (!plain && start === null) start = pos;
    if (op.insert === undefined) pos += typeof op.retain === "number" ? op.retain : (op.delete ?? 1);
    if (!plain) oldEnd = pos;
  }
  if (start === null) return new Delta();
  const before = old.slice(start, oldEnd);
  // Plain retains are merged, so only the first op can be the one before ``start``.
  const ops = new Delta(raw.ops).chop().ops;
  const rest = new Delta(start > 0 ? ops.slice(1) : ops);
  return new Delta().retain(start).concat(before.diff(before.compose(rest))).chop();
}
