/**
 * Authorship runs: the JS twin of realtime/ot/authorship.py.
 *
 * Runs are ``[[length, author], ...]``: ``length`` in Quill units (UTF-16
 * code units, an embed counts 1), ``author`` a user id or ``null``
 * (unknown). They cover the whole content, no run is empty and adjacent runs
 * never share an author. A retain keeps its characters' authors (a format
 * change too), a delete drops them, an insert is the change's author's, or
 * its ``attribution``'s (runs over the inserted characters in order).
 * Pure: no DOM. tests/js/authorship_runs.test.mjs checks it against the
 * Python module on the same random cases.
 *
 * @module editor/authorship/runs
 */

/** @typedef {[number, number|null]} Run */

/**
 * @param {Object} op
 * @returns {number}
 */
function opLength(op) {
  if ("insert" in op) return typeof op.insert === "string" ? op.insert.length : 1;
  const n = "retain" in op ? op.retain : op.delete;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`bad op length: ${JSON.stringify(op)}`);
  return n;
}

/**
 * Append ``count`` characters by ``author``, merging with the last run.
 * @param {Run[]} out
 * @param {number} count
 * @param {number|null} author
 */
function push(out, count, author) {
  if (count <= 0) return;
  const last = out[out.length - 1];
  if (last && last[1] === author) last[0] += count;
  else out.push([count, author]);
}

/** Hands out pieces of a list of runs from the front, in order. */
class Cursor {
  /** @param {Run[]} runs */
  constructor(runs) {
    this.runs = runs;
    this.index = 0;
    this.offset = 0;
  }

  /**
   * @param {number} count
   * @param {Run[]|null} out  where to copy the runs (null: skip them)
   * @param {string} what  for the error
   */
  take(count, out, what) {
    while (count > 0) {
      const run = this.runs[this.index];
      if (!run) throw new RangeError(`the change ${what} past the end of the content`);
      const left = run[0] - this.offset;
      if (left <= count) {
        if (out) push(out, left, run[1]);
        count -= left;
        this.index += 1;
        this.offset = 0;
      } else {
        if (out) push(out, count, run[1]);
        this.offset += count;
        count = 0;
      }
    }
  }

  /** @param {Run[]} out */
  rest(out) {
    const run = this.runs[this.index];
    if (!run) return;
    push(out, run[0] - this.offset, run[1]);
    for (let i = this.index + 1; i < this.runs.length; i++) push(out, this.runs[i][0], this.runs[i][1]);
  }
}

/**
 * @param {{ops: Object[]}|Object[]} delta
 * @returns {Object[]}
 */
function opsOf(delta) {
  return Array.isArray(delta) ? delta : delta.ops;
}

/**
 * Return the runs of ``size`` characters all by ``author``.
 * @param {number} size
 * @param {number|null} [author]
 * @returns {Run[]}
 */
export function initial(size, author = null) {
  return size > 0 ? [[size, author]] : [];
}

/**
 * Return how many characters ``runs`` cover.
 * @param {Run[]} runs
 */
export function length(runs) {
  let n = 0;
  for (const run of runs) n += run[0];
  return n;
}

/**
 * Return how many characters each author wrote (key: the id, or "null").
 * @param {Run[]} runs
 * @returns {Map<number|null, number>}
 */
export function shares(runs) {
  /** @type {Map<number|null, number>} */
  const counts = new Map();
  for (const [count, author] of runs) counts.set(author, (counts.get(author) || 0) + count);
  return counts;
}

/**
 * Return the runs after ``delta`` (a change by ``author``) is applied.
 * @param {Run[]} runs
 * @param {{ops: Object[]}|Object[]} delta
 * @param {number|null} author
 * @param {Run[]|null} [attribution]
 * @returns {Run[]}
 * @throws {RangeError} the change does not fit, or the attribution does not
 *   cover exactly its inserts
 */
export function apply(runs, delta, author, attribution = null) {
  /** @type {Run[]} */
  const out = [];
  const cursor = new Cursor(runs);
  const source = attribution ? new Cursor(attribution) : null;
  for (const op of opsOf(delta)) {
    const count = opLength(op);
    if ("insert" in op) {
      if (source) source.take(count, out, "attribution ends before its inserts");
      else push(out, count, author);
    } else if ("retain" in op) {
      cursor.take(count, out, "retains");
    } else {
      cursor.take(count, null, "deletes");
    }
  }
  if (source && source.index < source.runs.length) {
    throw new RangeError("the attribution covers more than the change inserts");
  }
  cursor.rest(out);
  return out;
}

/**
 * Return the runs of characters ``start`` to ``end`` (excluded).
 * @param {Run[]} runs
 * @param {number} start
 * @param {number} end
 * @returns {Run[]}
 */
export function sliceRuns(runs, start, end) {
  /** @type {Run[]} */
  const out = [];
  let pos = 0;
  for (const [count, author] of runs) {
    if (pos >= end) break;
    const runEnd = pos + count;
    const lo = Math.max(start, pos);
    const hi = Math.min(end, runEnd);
    if (hi > lo) push(out, hi - lo, author);
    pos = runEnd;
  }
  return out;
}

/**
 * Return runs read from JSON, validated and merged.
 * @param {unknown} value
 * @returns {Run[]}
 * @throws {TypeError} not a list of [length >= 1, user id or null]
 */
export function fromJSON(value) {
  if (!Array.isArray(value)) throw new TypeError("authorship runs must be a list");
  /** @type {Run[]} */
  const out = [];
  for (const item of value) {
    if (!Array.isArray(item) || item.length !== 2) throw new TypeError("a run must be [length, author]");
    const [count, author] = item;
    if (!Number.isInteger(count) || count < 1) throw new TypeError("a run's length must be a positive integer");
    if (author !== null && (!Number.isInteger(author) || author < 0)) {
      throw new TypeError("a run's author must be a user id or null");
    }
    push(out, count, author);
  }
  return out;
}
