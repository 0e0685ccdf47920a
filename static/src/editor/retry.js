/**
 * The browser's one retry policy: how long to wait before trying again,
 * and when to try another way. Every delay the client waits on comes from
 * here; the transport (transport.js) and the op resends (dispatch.js) only
 * apply it.
 *
 * - Op resends after ``rate_limited`` / ``unavailable``: the server's
 *   ``retry_after``, else {@link OP_RETRY} backoff, forever.
 * - Reconnects after a lost socket: {@link RECONNECT} backoff. A reconnect
 *   the client asks for itself (a revision gap, a reload, broken parts)
 *   goes at once, at most {@link QUICK_RECONNECTS} ``count`` times within
 *   ``window`` ms; beyond that it waits like any other.
 * - After {@link ROUTE_AFTER_FAILURES} attempts in a row failed before
 *   ``hello``, reconnects ask the route endpoint where to go.
 * - Redirects are followed at once, at most {@link MAX_REDIRECTS} in a row;
 *   then the client backs off and asks the route endpoint.
 *
 * Backoff is exponential with jitter: ``initial``, doubling, capped at
 * ``max``; each delay is spread over 75–125 % of its step (never above
 * ``max``) so that many clients cut off together do not come back together.
 *
 * @module editor/retry
 */

/** Backoff of op resends after ``rate_limited`` / ``unavailable``. */
export const OP_RETRY = Object.freeze({ initial: 250, max: 10_000 });

/** Backoff of reconnects after a lost socket. */
const RECONNECT = Object.freeze({ initial: 500, max: 15_000 });

/** Immediate reconnects allowed per window (ms) before backing off. */
const QUICK_RECONNECTS = Object.freeze({ count: 3, window: 10_000 });

/** Attempts failed before ``hello`` after which the route endpoint is asked. */
export const ROUTE_AFTER_FAILURES = 2;

/** Most redirects followed in a row before asking the route endpoint. */
export const MAX_REDIRECTS = 3;

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

/** When the next reconnect goes: {@link RECONNECT} backoff, quick ones first. */
export class ReconnectDelay {
  /**
   * @param {Object} options
   * @param {() => number} options.now  ms clock
   * @param {() => number} [options.random]  uniform in [0, 1)
   */
  constructor({ now, random = Math.random }) {
    this.now = now;
    this.backoff = new Backoff({ ...RECONNECT, random });
    /** @type {number[]} times of the recent immediate reconnects */
    this.quick = [];
  }

  /**
   * Return the delay of the next reconnect in ms.
   * @param {boolean} immediate  the client itself asks to reconnect now
   */
  next(immediate) {
    const t = this.now();
    this.quick = this.quick.filter((at) => t - at < QUICK_RECONNECTS.window);
    if (immediate && this.quick.length < QUICK_RECONNECTS.count) {
      this.quick.push(t);
      return 0;
    }
    return this.backoff.next();
  }

  /** Return the next backoff delay, however the reconnect was asked for. */
  later() {
    return this.backoff.next();
  }

  /** A socket got ``hello``: the backoff starts again from its first step. */
  reset() {
    this.backoff.reset();
  }
}
