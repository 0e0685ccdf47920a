/**
 * Positions in the document that follow it as it changes: where an image
 * being uploaded will go. Pure (quill-delta only), so node tests it.
 *
 * A tracked position is an index in Quill units. Every change to the
 * document (the person's, a collaborator's, a silent correction) moves it
 * with ``Delta.transformPosition(index, true)``: text inserted exactly at
 * the position goes after it (the image keeps its place before what the
 * person goes on typing), a deletion around it brings it to the deletion's
 * start, and it never leaves the document.
 *
 * @module editor/images/track
 */

/**
 * One tracked position.
 * @typedef {Object} Tracked
 * @property {number} index  where the position is now
 * @property {boolean} gone  set once {@link PositionTracker#release} ran
 */

export class PositionTracker {
  constructor() {
    /** @type {Set<Tracked>} */
    this.positions = new Set();
  }

  /**
   * Start tracking ``index``.
   * @param {number} index
   * @returns {Tracked}
   */
  track(index) {
    if (!Number.isInteger(index) || index < 0) throw new RangeError(`bad position ${index}`);
    const tracked = { index, gone: false };
    this.positions.add(tracked);
    return tracked;
  }

  /**
   * Stop tracking ``tracked`` (its index stays what it was).
   * @param {Tracked} tracked
   */
  release(tracked) {
    tracked.gone = true;
    this.positions.delete(tracked);
  }

  /**
   * Move every position over ``change``, a delta applied to the document.
   * @param {{transformPosition: (index: number, priority?: boolean) => number}} change
   */
  transform(change) {
    for (const tracked of this.positions) tracked.index = change.transformPosition(tracked.index, true);
  }

  /**
   * Clamp every position to a document of ``length`` (Quill's getLength():
   * the last valid insertion index is length - 1, before the final newline).
   * @param {number} length
   */
  clamp(length) {
    const last = Math.max(0, length - 1);
    for (const tracked of this.positions) if (tracked.index > last) tracked.index = last;
  }

  /** How many positions are tracked. */
  get size() {
    return this.positions.size;
  }
}
