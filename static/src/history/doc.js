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

/**
 * Whether two attribute sets are equal (schema values are primitives).
 * @param {Object|undefined} a
 * @param {Object|undefined} b
 */
function sameAttributes(a, b) {
  if (a === b) return true;
  const ka = a ? Object.keys(a) : [];
  const kb = b ? Object.keys(b) : [];
  if (ka.length !== kb.length) return false;
  return ka.every((key) => a?.[key] === b?.[key]
    || (typeof a?.[key] === "object" && JSON.stringify(a?.[key]) === JSON.stringify(b?.[key])));
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
 * Append ``source[from:to]`` to ``out`` in chunks (a spread of a whole
 * 100k-op document would pass the engine's argument limit).
 * @param {InsertOp[]} out
 * @param {InsertOp[]} source
 * @param {number} from
 * @param {number} to
 */
function copy(out, source, from, to) {
  for (let i = from; i < to; i += 8192) out.push(...source.slice(i, Math.min(to, i + 8192)));
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
    } else if (typeof op.retain === "number" && !op.attributes) {
      // The common case (typing far from here): whole ops kept as they are,
      // by reference, in one pass; only the edges are cut or merged.
      let n = op.retain;
      if (offset > 0 && n > 0) {
        const first = take(Math.min(n, opLength(doc[index]) - offset));
        for (const piece of first) pushInsert(out, piece);
        n -= first.reduce((sum, piece) => sum + opLength(piece), 0);
      }
      if (n > 0 && index < doc.length && opLength(doc[index]) <= n) {
        pushInsert(out, doc[index]);
        n -= opLength(doc[index]);
        index += 1;
        const from = index;
        while (index < doc.length) {
          const length = opLength(doc[index]);
          if (length > n) break;
          n -= length;
          index += 1;
        }
        copy(out, doc, from, index);
      }
      for (const piece of take(n)) pushInsert(out, piece);
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
  if (index < doc.length) {
    for (const piece of take(opLength(doc[index]) - offset)) pushInsert(out, piece);
  }
  // The rest as it is (a normalized document: nothing left to merge but
  // its first op with what came before).
  if (index < doc.length) pushInsert(out, doc[index++]);
  copy(out, doc, index, doc.length);
  return out;
}

/** @param {InsertOp[]} doc */
export function docLength(doc) {
  return doc.reduce((sum, op) => sum + opLength(op), 0);
}

/**
 * Reads a change op by op, in pieces of any length (quill-delta's OpIterator).
 */
class Reader {
  /** @param {Op[]} ops */
  constructor(ops) {
    this.ops = ops;
    this.index = 0;
    this.offset = 0;
  }

  /** @param {Op} op */
  static lengthOf(op) {
    if (typeof op.delete === "number") return op.delete;
    if (typeof op.retain === "number") return op.retain;
    if (op.retain && typeof op.retain === "object") return 1;
    return typeof op.insert === "string" ? op.insert.length : 1;
  }

  hasNext() {
    return this.index < this.ops.length;
  }

  /** "insert" | "delete" | "retain" (an exhausted reader retains for ever) */
  peekType() {
    const op = this.ops[this.index];
    if (!op) return "retain";
    if (typeof op.delete === "number") return "delete";
    return op.insert !== undefined ? "insert" : "retain";
  }

  peekLength() {
    const op = this.ops[this.index];
    return op ? Reader.lengthOf(op) - this.offset : Infinity;
  }

  /** @param {number} [length] @returns {Op} */
  next(length = Infinity) {
    const op = this.ops[this.index];
    if (!op) return { retain: Infinity };
    const room = Reader.lengthOf(op) - this.offset;
    const used = Math.min(room, length);
    const start = this.offset;
    if (used === room) {
      this.index += 1;
      this.offset = 0;
    } else {
      this.offset += used;
    }
    if (typeof op.delete === "number") return { delete: used };
    /** @type {Op} */
    const piece = {};
    if (typeof op.retain === "number") piece.retain = used;
    else if (op.retain !== undefined) piece.retain = op.retain;
    else if (typeof op.insert === "string") piece.insert = op.insert.slice(start, start + used);
    else piece.insert = op.insert;
    if (op.attributes) piece.attributes = op.attributes;
    return piece;
  }
}

/**
 * Attributes of ``b`` applied over ``a``; nulls kept when the result is a
 * retain (they remove a format), dropped on an insert.
 * @param {Object|undefined} a
 * @param {Object|undefined} b
 * @param {boolean} keepNull
 */
function composeAttributes(a, b, keepNull) {
  const out = { ...(b || {}) };
  if (!keepNull) for (const key of Object.keys(out)) if (out[key] === null) delete out[key];
  for (const key of Object.keys(a || {})) {
    if (a?.[key] !== undefined && (b === undefined || b[key] === undefined)) out[key] = a[key];
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * Return one change doing what ``a`` then ``b`` do (quill-delta's
 * ``compose`` of two changes; not normalized, which ``applyChange`` does
 * not need). Playback composes a tick's ops and applies the result once,
 * so a tick costs one pass over the document, not one per op.
 *
 * @param {Op[]} a
 * @param {Op[]} b
 * @returns {Op[]}
 */
export function composeChanges(a, b) {
  const first = new Reader(a);
  const second = new Reader(b);
  /** @type {Op[]} */
  const out = [];
  while (first.hasNext() || second.hasNext()) {
    if (second.peekType() === "insert") {
      out.push(second.next());
    } else if (first.peekType() === "delete") {
      out.push(first.next());
    } else {
      const length = Math.min(first.peekLength(), second.peekLength());
      const x = first.next(length);
      const y = second.next(length);
      if (y.retain !== undefined) {
        /** @type {Op} */
        const op = x.retain !== undefined
          ? { retain: typeof y.retain === "number" ? length : y.retain }
          : { insert: x.insert };
        const attributes = composeAttributes(x.attributes, y.attributes, x.retain !== undefined);
        if (attributes) op.attributes = attributes;
        out.push(op);
      } else if (typeof y.delete === "number" && x.retain !== undefined) {
        out.push(y);
      }
      // A delete of an insert: both vanish.
    }
  }
  // A trailing plain retain changes nothing (and may be Infinity).
  while (out.length) {
    const last = out[out.length - 1];
    if (typeof last.retain === "number" && !last.attributes) out.pop();
    else break;
  }
  return out;
}
