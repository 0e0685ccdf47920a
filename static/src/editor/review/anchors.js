/**
 * Comment anchors are content: the ``comment`` attribute of every character
 * a thread is about holds that thread's id (contract §2: 1-10 ids of
 * ``[0-9a-z]{10,24}``, space-separated, no duplicates). They move with the
 * text under any concurrent edit because OT moves the text, and survive
 * reload, compaction, restore and failover because the content does.
 *
 * This module reads and writes those marks on Delta ops; it is pure (no
 * DOM, no Quill) so node tests cover it.
 *
 * - {@link scanAnchors}: one pass over the document giving each thread's
 *   span (first to last marked character) and the runs, for "which threads
 *   are at this index" ({@link idsAt}).
 * - {@link markChange}: the change that adds a thread id over a range,
 *   appending it to each run's ids (one retain per run).
 * - {@link unmarkChange}: the change that takes ids out of every run.
 * - {@link newThreadId}: 16 random base-36 characters.
 *
 * @module editor/review/anchors
 */

/** Most threads one character can be anchored to (the schema's limit). */
export const MAX_THREADS_PER_CHARACTER = 10;

/** A thread id as the schema accepts it. */
export const THREAD_ID = /^[0-9a-z]{10,24}$/;

/**
 * @typedef {{insert?: any, retain?: any, delete?: number, attributes?: Record<string, any>}} Op
 * @typedef {{start: number, end: number, ids: string[]}} Run
 * @typedef {{index: number, length: number}} Span
 * @typedef {{spans: Map<string, Span>, runs: Run[]}} Anchors
 */

/**
 * Return the thread ids of a ``comment`` attribute value ([] when absent
 * or not a string).
 * @param {unknown} value
 * @returns {string[]}
 */
export function commentIds(value) {
  if (typeof value !== "string" || !value) return [];
  return value.split(" ").filter((id) => THREAD_ID.test(id));
}

/**
 * Return the length of one insert op in the document (UTF-16 code units
 * for text, 1 for an embed).
 * @param {Op} op
 */
function insertLength(op) {
  return typeof op.insert === "string" ? op.insert.length : 1;
}

/**
 * Scan a document's ops once: each thread's span and the marked runs in
 * text order (adjacent runs with the same ids are merged).
 * @param {Op[]} ops  a document (inserts only)
 * @returns {Anchors}
 */
export function scanAnchors(ops) {
  /** @type {Map<string, Span>} */
  const spans = new Map();
  /** @type {Run[]} */
  const runs = [];
  let at = 0;
  for (const op of ops) {
    if (op.insert === undefined) continue;
    const length = insertLength(op);
    const ids = commentIds(op.attributes?.comment);
    if (ids.length) {
      const last = runs[runs.length - 1];
      if (last && last.end === at && sameIds(last.ids, ids)) last.end = at + length;
      else runs.push({ start: at, end: at + length, ids });
      for (const id of ids) {
        const span = spans.get(id);
        if (span) span.length = at + length - span.index;
        else spans.set(id, { index: at, length });
      }
    }
    at += length;
  }
  return { spans, runs };
}

/**
 * @param {string[]} a
 * @param {string[]} b
 */
function sameIds(a, b) {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/**
 * Return the thread ids on the character at ``index``, else on the one
 * before it (a cursor at the end of a commented word is "in" it).
 * @param {Anchors} anchors
 * @param {number} index
 * @returns {string[]}
 */
export function idsAt({ runs }, index) {
  const at = (/** @type {number} */ i) => {
    let lo = 0;
    let hi = runs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (runs[mid].end <= i) lo = mid + 1;
      else if (runs[mid].start > i) hi = mid - 1;
      else return runs[mid].ids;
    }
    return null;
  };
  return at(index) || (index > 0 ? at(index - 1) : null) || [];
}

/**
 * Return the change (ops) that anchors thread ``id`` over ``[index, index +
 * length)``, given ``slice``: the document's ops over exactly that range.
 * Each run keeps its ids (in their order) and gets ``id`` appended unless
 * it has it already. Throws a RangeError
 * with a sentence for people when a character already has the most
 * threads allowed, and a TypeError for a bad id or an empty range.
 * @param {Op[]} slice
 * @param {number} index
 * @param {string} id
 * @returns {Op[]}
 */
export function markChange(slice, index, id) {
  if (!THREAD_ID.test(id)) throw new TypeError(`not a thread id: ${id}`);
  /** @type {Op[]} */
  const ops = index > 0 ? [{ retain: index }] : [];
  let total = 0;
  for (const op of slice) {
    if (op.insert === undefined) continue;
    const length = insertLength(op);
    const ids = commentIds(op.attributes?.comment);
    if (!ids.includes(id)) {
      if (ids.length >= MAX_THREADS_PER_CHARACTER) {
        throw new RangeError(`Part of that text already has ${MAX_THREADS_PER_CHARACTER} comments.`);
      }
      ids.push(id);
    }
    pushRetain(ops, length, ids.join(" "));
    total += length;
  }
  if (!total) throw new TypeError("nothing to comment on");
  return ops;
}

/**
 * Return the change (ops) that removes every id in ``ids`` from the
 * comment marks of ``doc`` (a whole document), or [] when none carries
 * them. A run left without ids gets ``comment: null``.
 * @param {Op[]} doc
 * @param {Iterable<string>} ids
 * @returns {Op[]}
 */
export function unmarkChange(doc, ids) {
  const drop = new Set(ids);
  /** @type {Op[]} */
  const ops = [];
  let gap = 0;
  for (const op of doc) {
    if (op.insert === undefined) continue;
    const length = insertLength(op);
    const now = commentIds(op.attributes?.comment);
    const kept = now.filter((id) => !drop.has(id));
    if (kept.length === now.length) {
      gap += length;
      continue;
    }
    if (gap) ops.push({ retain: gap });
    gap = 0;
    pushRetain(ops, length, kept.length ? kept.join(" ") : null);
  }
  return ops;
}

/**
 * Append a retain of ``length`` setting ``comment`` to ``value``, merged
 * into the previous retain when it sets the same value.
 * @param {Op[]} ops
 * @param {number} length
 * @param {string|null} value
 */
function pushRetain(ops, length, value) {
  const last = ops[ops.length - 1];
  if (last && last.attributes && last.attributes.comment === value) {
    last.retain += length;
  } else {
    ops.push({ retain: length, attributes: { comment: value } });
  }
}

const BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz";

/**
 * Return a new thread id: 16 base-36 characters from ``randomBytes``
 * (crypto's by default), unbiased (bytes of 252 and above are redrawn).
 * @param {(n: number) => Uint8Array} [randomBytes]
 */
export function newThreadId(randomBytes = (n) => crypto.getRandomValues(new Uint8Array(n))) {
  let id = "";
  while (id.length < 16) {
    for (const byte of randomBytes(16)) {
      if (byte < 252 && id.length < 16) id += BASE36[byte % 36];
    }
  }
  return id;
}
