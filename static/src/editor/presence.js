/**
 * Sends the person's selection to the server: at most one ``presence``
 * frame per interval, only while the OT client is synchronized (a range
 * then refers to the server document at the client's revision), never the
 * same range twice on one socket, and again on a new socket.
 *
 * While ops are pending the range is held back; the connection calls
 * {@link PresenceSender#sendNow} after the ack that synchronizes the client
 * and after each ``hello``. Failure modes: a send on a socket that is gone
 * fails quietly and the range counts as unsent (the next ``hello`` sends
 * it); a timer pending when the socket goes is cancelled.
 *
 * @module editor/presence
 */
import { presenceMessage } from "./protocol.js";

/**
 * What the sender needs from the connection.
 *
 * @typedef {Object} PresencePort
 * @property {() => boolean} ready  the socket had its ``hello``
 * @property {() => Object|null} socket  the current socket (identity only)
 * @property {(message: Object) => boolean} send  send a frame now
 * @property {() => number|null} revision  the client's revision while it
 *   is synchronized, else null
 * @property {() => ({index: number, length: number}|null)} range  the
 *   person's selection (may flush a local edit first)
 */

export class PresenceSender {
  /**
   * @param {Object} options
   * @param {PresencePort} options.port
   * @param {{setTimeout: Function, clearTimeout: Function}} options.timers
   * @param {() => number} options.now
   * @param {number} [options.interval]  ms between presence frames
   */
  constructor({ port, timers, now, interval = 100 }) {
    this.port = port;
    this.timers = timers;
    this.now = now;
    this.interval = interval;
    this._timer = null;
    /** @type {{socket: Object|null, rev: number, index: number, length: number}|null} */
    this._last = null;
    this._lastAt = -Infinity;
  }

  /** The selection moved: send when the interval allows. */
  changed() {
    if (!this.port.ready() || this._timer !== null) return;
    const wait = this._lastAt + this.interval - this.now();
    if (wait <= 0) {
      this.sendNow();
      return;
    }
    this._timer = this.timers.setTimeout(() => {
      this._timer = null;
      this.sendNow();
    }, wait);
  }

  /** Send the selection now if synchronized and not sent already. */
  sendNow() {
    this.cancel();
    if (!this.port.ready()) return;
    const range = this.port.range(); // may flush a local edit first
    const rev = this.port.revision();
    if (rev === null || !range) return;
    const socket = this.port.socket();
    const last = this._last;
    if (
      last &&
      last.socket === socket &&
      last.rev === rev &&
      last.index === range.index &&
      last.length === range.length
    ) {
      return;
    }
    if (this.port.send(presenceMessage(rev, range))) {
      this._last = { socket, rev, index: range.index, length: range.length };
      this._lastAt = this.now();
    }
  }

  /** Forget a pending send (the socket went away). */
  cancel() {
    if (this._timer !== null) this.timers.clearTimeout(this._timer);
    this._timer = null;
  }
}
