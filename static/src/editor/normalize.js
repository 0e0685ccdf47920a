/**
 * Make a change from Quill acceptable to the server without changing what
 * the person sees (or, rarely, changing it as little as possible).
 *
 * The protocol refuses a change that places a boundary inside a surrogate
 * pair or inserts a lone surrogate or U+0000. Quill can produce both:
 * typing next to an emoji is turned into a change by diffing the old and
 * new text of the DOM node (quill-delta's ``diff``, on UTF-16 code units),
 * so typing "🙂👍" before "👍" may arrive as
 * ``retain(k) insert("\uDE42👍\uD83D")`` with ``k`` between the two halves
 * of an emoji. Sent as is, the server answers ``bad_op`` and the client has
 * to drop the person's pending text.
 *
 * The fix: every pair split by a boundary is deleted and inserted again
 * (same text, same attributes) and the change is composed after that, so
 * the split now falls inside inserted text, which is then regrouped by whole
 * code points. The result is the same document. Only when the two halves of
 * a pair ended up with different attributes, or a truly lone surrogate or
 * U+0000 was inserted (a paste), does the document change: the pair takes
 * its first half's attributes, the bad unit becomes U+FFFD; the caller then
 * applies the returned ``fix`` locally so the editor matches what is sent.
 *
 * Pure: no DOM. Costs one pass over the old document's ops, only when a
 * boundary or an insert touches a surrogate.
 *
 * @module editor/normalize
 */
import Delta from "quill-delta";

const isHigh = (c) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c) => c >= 0xdc00 && c <= 0xdfff;

/**
 * Return the change's boundaries (positions in the old document where an
 * op starts or ends), ascending, without duplicates.
 * @param {Delta} change
 */
function boundaries(change) {
  const out = [0];
  let pos = 0;
  for (const op of change.ops) {
    if (typeof op.retain === "number") pos += op.retain;
    else if (typeof op.delete === "number") pos += op.delete;
    if (out[out.length - 1] !== pos) out.push(pos);
  }
  return out;
}

/**
 * Return the positions among ``positions`` (ascending) where ``doc`` has a
 * high surrogate just before and a low surrogate at: a split pair.
 * @param {Delta} doc
 * @param {number[]} positions
 */
function splitPositions(doc, positions) {
  const splits = [];
  let i = 0;
  let offset = 0;
  let prev = -1; // code unit just before ``offset`` (or -1)
  for (const op of doc.ops) {
    if (i >= positions.length) break;
    const text = typeof op.insert === "string" ? op.insert : null;
    const length = text === null ? 1 : text.length;
    while (i < positions.length && positions[i] < offset + length) {
      const p = positions[i];
      const before = p === offset ? prev : text === null ? -1 : text.charCodeAt(p - offset - 1);
      const at = text === null ? -1 : text.charCodeAt(p - offset);
      if (p > 0 && isHigh(before) && isLow(at)) splits.push(p);
      i += 1;
    }
    prev = text === null ? -1 : text.charCodeAt(length - 1);
    offset += length;
  }
  return splits;
}

/** Whether an inserted string needs regrouping or cleaning. */
// eslint-disable-next-line no-control-regex -- U+0000 is what this looks for
const SUSPECT = /[\u0000\uD800-\uDFFF]/;

/**
 * Regroup the insert runs of ``change`` by whole code points; replace lone
 * surrogates and U+0000 with U+FFFD.
 *
 * @param {Delta} change
 * @returns {{delta: Delta, altered: boolean}}
 */
function regroup(change) {
  const out = new Delta();
  let altered = false;
  /** @type {Array<{unit: string, attributes: Object|undefined}>} */
  let run = [];
  const flush = () => {
    for (let k = 0; k < run.length; k += 1) {
      const { unit, attributes } = run[k];
      const c = unit.charCodeAt(0);
      if (isHigh(c) && k + 1 < run.length && isLow(run[k + 1].unit.charCodeAt(0))) {
        const next = run[k + 1];
        if (JSON.stringify(next.attributes || {}) !== JSON.stringify(attributes || {})) altered = true;
        out.insert(unit + next.unit, attributes);
        k += 1;
      } else if (isHigh(c) || isLow(c) || c === 0) {
        altered = true;
        out.insert("\uFFFD", attributes);
      } else {
        out.insert(unit, attributes);
      }
    }
    run = [];
  };
  for (const op of change.ops) {
    if (typeof op.insert === "string") {
      if (!SUSPECT.test(op.insert)) {
        flush();
        out.push({ ...op });
        continue;
      }
      for (const unit of op.insert.split("")) run.push({ unit, attributes: op.attributes });
    } else {
      flush();
      out.push({ ...op });
    }
  }
  flush();
  return { delta: out, altered };
}

/**
 * Return ``change`` (made by the person against ``oldDoc``) in a form the
 * server accepts, and the local ``fix`` to apply when that form leads to a
 * different document (null almost always).
 *
 * @param {Delta} oldDoc  the document before the change
 * @param {Delta} change
 * @returns {{change: Delta, fix: Delta|null}}
 */
export function normalizeChange(oldDoc, change) {
  const splits = splitPositions(oldDoc, boundaries(change));
  const suspectInsert = change.ops.some((op) => typeof op.insert === "string" && SUSPECT.test(op.insert));
  if (!splits.length && !suspectInsert) return { change, fix: null };
  let base = change;
  if (splits.length) {
    // Delete and insert again each split pair, then apply the change after.
    const rewrite = new Delta();
    let cursor = 0;
    for (const p of splits) {
      rewrite.retain(p - 1 - cursor);
      for (const op of oldDoc.slice(p - 1, p + 1).ops) rewrite.push({ ...op });
      rewrite.delete(2);
      cursor = p + 1;
    }
    base = rewrite.compose(change);
  }
  const { delta, altered } = regroup(base);
  if (!altered) return { change: delta, fix: null };
  // The editor shows oldDoc∘change; bring it to oldDoc∘delta.
  const fix = change.invert(oldDoc).compose(delta);
  return { change: delta, fix };
}
