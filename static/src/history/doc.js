/**
 * A document as a list of insert ops, and the one operation the timeslider
 * needs on it: apply a change (quill-delta's ``compose`` of a document with
 * a change, which tests/js/history_doc.test.mjs checks against quill-delta).
 *
 * Own code rather than quill-delta so history.js stays a small bundle that
 * also runs unbundled (its sources are ES modules without bare imports).
 * Lengths are in UTF-16 code units, an embed is 1: Quill's.
 */

/**
 * @typedef {{insert: string|Object, attributes?: Object}} InsertOp
 * @typedef {{insert?: string|Object, retain?: number|Object, delete?: number, attributes?: Object}} Op
 */

/** @param {InsertOp} op */
export function opLength(op) {
  return typeof op.insert === "string" ? op.insert.length : 1;
}

/** @param {Object|undefined} a @param {Object|undefined} b */
function sameAttributes(a, b) {
  const ka = a ? Object.keys(a) : [];
  const kb = b ? Object.keys(b) : [];
  if (ka.length !== kb.length) return false;
  return ka.every((key) => b && JSON.stringify(a?.[key]) === JSON.stringify(b[key]));
}

/**
 * Append ``op`` to ``ops``, merging it with the last text insert of the
 * same attributes.
 * @param {InsertOp[]} ops
 * @param {InsertOp} op
 */
export function pushInsert(ops, op) {
  if (opLength(op) === 0) return;
  const last = ops[ops.length - 1];
  if (last && typeof last.insert === "string" && typeof op.insert === "string"
      && sameAttributes(last.attributes, op.attributes)) {
    ops[ops.length - 1] = { ...last, insert: last.insert + op.insert };
    return;
  }
  const clean = /** @type {InsertOp} */ ({ insert: op.insert });
  if (op.attributes && Object.keys(op.attributes).length) clean.attributes = op.attributes;
  ops.push(clean);
}

/**
 * Return the attributes after a retain's ``change`` (null removes a key).
 * @param {Object|undefined} base
 * @param {Object|undefined} change
 */
function formatted(base, change) {
  if (!change) return base;
  const out = { ...(base || {}) };
  for (const [key, value] of Object.entries(change)) {
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * Return the document ``doc`` with ``change`` applied; ``doc`` is unchanged.
 * Throws when the change reaches past the document's end (a gap in the
 * ops: the caller fetches the content instead).
 *
 * @param {InsertOp[]} doc
 * @param {Op[]} change
 * @returns {InsertOp[]}
 */
export function applyChange(doc, change) {
  /** @type {InsertOp[]} */
  const out = [];
  let index = 0; // the op of ``doc`` being read
  let offset = 0; // units of it already consumed

  /** Take up to ``n`` units of ``doc``; return the pieces. */
  const take = (n) => {
    /** @type {InsertOp[]} */
    const pieces = [];
    while (n > 0) {
      const op = doc[index];
      if (!op) throw new RangeError("the change reaches past the end of the document");
      const room = opLength(op) - offset;
      const used = Math.min(room, n);
      if (typeof op.insert === "string") {
        pieces.push({ ...op, insert: op.insert.slice(offset, offset + used) });
      } else {
        pieces.push(op);
      }
      n -= used;
      offset += used;
      if (offset === opLength(op)) {
        index += 1;
        offset = 0;
      }
    }
    return pieces;
  };

  for (const op of change) {
    if (op.insert !== undefined) {
      pushInsert(out, /** @type {InsertOp} */ ({ insert: op.insert, attributes: op.attributes }));
    } else if (typeof op.delete === "number") {
      take(op.delete);
    } else if (typeof op.retain === "number") {
      for (const piece of take(op.retain)) {
        pushInsert(out, { insert: piece.insert, attributes: formatted(piece.attributes, op.attributes) });
      }
    } else if (op.retain && typeof op.retain === "object") {
      // An embed's own change (not in the schema today): keep the embed, format it.
      for (const piece of take(1)) {
        pushInsert(out, { insert: piece.insert, attributes: formatted(piece.attributes, op.attributes) });
      }
    }
  }
  while (index < doc.length) {
    for (const piece of take(opLength(doc[index]) - offset)) pushInsert(out, piece);
  }
  return out;
}

/** @param {InsertOp[]} doc */
export function docLength(doc) {
  return doc.reduce((sum, op) => sum + opLength(op), 0);
}
