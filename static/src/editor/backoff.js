/**
 * Exponential backoff with jitter: ``initial``, doubling, capped at ``max``;
 * each delay is spread over 75–125 % of its step (never above ``max``) so
 * that many clients cut off together do not come back together.
 *
 * @module editor/backoff
 */

export class Backoff {
  /**
   * @param {Object} options
   * @param {number} options.initial  first delay in ms
   * @param {number} options.max      largest delay in ms
   * @param {() => number} [options.random]  uniform in [0, 1)
   */
  constructor({ initial, max, random = Math.random }) {
    this.initial = initial;
    this.max = max;
    this.random = random;
    this.attempts = 0;
  }

  /** Return the next delay in ms and count the attempt. */
  next() {
    const step = Math.min(this.max, this.initial * 2 ** Math.min(this.attempts, 30));
    this.attempts += 1;
    const jittered = step * (0.75 + 0.5 * this.random());
    return Math.round(Math.min(this.max, jittered));
  }

  /** Start again from ``initial``. */
  reset() {
    this.attempts = 0;
  }
}
