/**
 * The document's socket: one WebSocket at a time, reopened after it is
 * lost, following redirects and asking the route endpoint where to go.
 * What the frames mean is not its business: it hands each whole frame
 * (parsed, ``part`` frames joined) to its handlers, and tells them when the
 * socket is gone, when the connection must stop and what status to show.
 *
 * No DOM: the WebSocket class, ``fetch`` and the timers are injected so
 * node tests can run it against fake sockets. Every delay comes from the
 * retry policy (retry.js).
 *
 * Failure modes and what happens (protocol.md, "Reconnect" and the close
 * code table):
 *
 * - Lost socket (any close code not listed below): reconnect with
 *   backoff, with ``?rev=`` from ``handlers.revision()``. After two
 *   attempts in a row failed before ``hello``, the route endpoint is asked
 *   where to go.
 * - {@link Transport#reconnectNow} (a revision gap, a reload, a malformed
 *   ``part`` sequence): drop the socket and reconnect at once (three times
 *   in 10 s at most, then with backoff).
 * - ``redirect`` + 4301: follow it at once, at most 3 in a row; then wait
 *   with backoff and ``GET`` the route URL (401: signed out, 404: gone,
 *   anything else or no URL: ask again after the backoff).
 * - 4503: ask the route endpoint: after the hint given by
 *   {@link Transport#hintRoute}, if any (no server serves the document
 *   right now); else at once, or after the backoff when two attempts in a
 *   row failed before ``hello``.
 * - 4401: reconnect once at once if this socket had a ``hello`` (a
 *   password change in this browser ends the socket's session only), else
 *   stop: signed out. 4403: stop, access lost. 4404: stop, gone.
 * - 4429 (too many sockets for this user): say so, keep retrying with
 *   backoff.
 * - 1009 (a frame over the WebSocket layer's limit): ``handlers.oversized``
 *   (the connection reloads), reconnecting at once.
 * - A frame that is not JSON is ignored. A malformed ``part`` sequence
 *   (out of order, another frame in between, not JSON when joined) drops
 *   the socket and reconnects at once; nothing of it was handed on.
 * - Offline (``setOnline(false)``): no reconnect is scheduled until the
 *   browser is back online, then one goes at once.
 *
 * @module editor/transport
 */
import { StopReason, TOO_MANY_MESSAGE } from "./messages.js";
import { CloseCode, PartAssembler, PartError } from "./protocol.js";
import { MAX_REDIRECTS, ROUTE_AFTER_FAILURES, ReconnectDelay } from "./retry.js";

/** Connection states, as shown by the indicator. */
export const Status = Object.freeze({
  CONNECTING: "connecting",
  CONNECTED: "connected",
  RECONNECTING: "reconnecting",
  OFFLINE: "offline",
  STOPPED: "stopped",
});

const OPEN = 1;

/**
 * What the transport tells its owner (the connection).
 *
 * @typedef {Object} TransportHandlers
 * @property {() => number|null} revision  ``?rev=`` of the next socket
 *   (null: none, the server sends the whole content)
 * @property {(message: Object, ws: WebSocket) => void} message  a whole
 *   frame of the current socket ``ws``
 * @property {(closedByServer: boolean) => void} gone  the socket went
 *   away (closed by the server, or dropped by this client)
 * @property {(status: string) => void} status  a {@link Status} to show
 * @property {(reason: string) => void} stop  stop for good: a
 *   {@link StopReason}
 * @property {() => void} oversized  the server closed with 1009
 * @property {(notice: {kind: string, message: string, text: string}) => void} notice
 */

export class Transport {
  /**
   * @param {Object} options
   * @param {string} options.url  absolute ws(s) URL of the document's socket
   * @param {string} options.routeUrl  the route endpoint
   * @param {TransportHandlers} options.handlers
   * @param {boolean} [options.online]  whether the browser is online
   * @param {typeof WebSocket} [options.WebSocketImpl]
   * @param {typeof fetch} [options.fetchImpl]
   * @param {{setTimeout: Function, clearTimeout: Function}} [options.timers]
   * @param {() => number} [options.random]
   * @param {() => number} [options.now]
   */
  constructor({
    url,
    routeUrl,
    handlers,
    online = true,
    WebSocketImpl = globalThis.WebSocket,
    fetchImpl = (...args) => globalThis.fetch(...args),
    timers = globalThis,
    random = Math.random,
    now = () => Date.now(),
  }) {
    this.homeUrl = url;
    /** The URL of the current (or last) socket, without ``?rev=``. */
    this.url = url;
    this.routeUrl = routeUrl;
    this.handlers = handlers;
    this.online = online;
    this.WebSocketImpl = WebSocketImpl;
    this.fetchImpl = fetchImpl;
    this.timers = timers;

    /** @type {WebSocket|null} */
    this.ws = null;
    /** The current socket had its ``hello`` ({@link established}). */
    this.ready = false;
    /** Sockets that got a ``hello``, over the page's life. */
    this.hellos = 0;
    /** Stopped for good: nothing reconnects any more. */
    this.stopped = false;
    /** Incoming frames are held (IME composition) until {@link release}. */
    this.holding = false;
    /** @type {Array<[WebSocket, string]>} frames held, with their socket */
    this.held = [];

    this._delay = new ReconnectDelay({ now, random });
    this._timer = null;
    this._redirects = 0;
    /** @type {string|null} where the last ``redirect`` frame pointed */
    this._redirectUrl = null;
    /** @type {number|null} ms to wait before the route after the next 4503 */
    this._routeHint = null;
    /** Attempts in a row that failed before ``hello``. */
    this._failures = 0;
    this._gotHello = false;
    /**
     * A 4401 after this socket had a ``hello`` is tried once more before
     * the person is told they are signed out: changing one's password in
     * this browser gives it a new session and ends the old one, which the
     * open socket still carried.
     */
    this._signedOutRetry = false;
    /** Joins ``part`` frames of the current socket. */
    this._parts = new PartAssembler();
  }

  // ------------------------------------------------------------------ public

  /** Open the first socket. */
  start() {
    this._connect(this.homeUrl);
  }

  /** Close for good: drop the socket, cancel every timer. */
  stop() {
    this.stopped = true;
    this._dropSocket();
    this._clearTimer();
  }

  /**
   * Send ``message`` as JSON on the current socket; return whether it went.
   * @param {Object} message
   */
  send(message) {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) return false;
    try {
      ws.send(JSON.stringify(message));
      return true;
    } catch (err) {
      console.warn("collabdocs: send failed", err);
      return false;
    }
  }

  /** The current socket's ``hello`` was handled: it is ready. */
  established() {
    this._gotHello = true;
    this._signedOutRetry = false;
    this.hellos += 1;
    this._failures = 0;
    this._redirects = 0;
    this._delay.reset();
    this.ready = true;
  }

  /** Drop the socket and open a new one at once (a gap, a reload). */
  reconnectNow() {
    this._dropSocket();
    this._scheduleReconnect({ immediate: true });
  }

  /**
   * Remember where the server said to go (a ``redirect`` frame); the 4301
   * close that follows goes there.
   * @param {string} url
   */
  redirectTo(url) {
    this._redirectUrl = url;
  }

  /**
   * Wait ``delay`` ms before asking the route after the next 4503 (no
   * server serves the document right now).
   * @param {number} delay
   */
  hintRoute(delay) {
    this._routeHint = Math.max(delay, 0);
  }

  /**
   * Tell the transport whether the browser is online.
   * @param {boolean} online
   */
  setOnline(online) {
    this.online = online;
    if (this.stopped) return;
    if (!online) {
      this.handlers.status(Status.OFFLINE);
      return;
    }
    if (!this.ws) {
      this._clearTimer();
      this._delay.reset();
      this._connect(this.url);
    } else {
      this.handlers.status(this.ready ? Status.CONNECTED : this._connectingStatus());
    }
  }

  /** Hold incoming frames until {@link release}. */
  hold() {
    this.holding = true;
  }

  /** Hand on the frames held by {@link hold}, in order. */
  release() {
    this.holding = false;
    while (!this.holding && this.held.length) {
      const [ws, data] = /** @type {[WebSocket, string]} */ (this.held.shift());
      if (ws === this.ws) this._receive(ws, data);
    }
  }

  // ----------------------------------------------------------------- socket

  _connectingStatus() {
    if (!this.online) return Status.OFFLINE;
    return this.hellos || this._failures ? Status.RECONNECTING : Status.CONNECTING;
  }

  /** @param {string} url */
  _connect(url) {
    this._clearTimer();
    if (this.stopped) return;
    this.url = url;
    const target = new URL(url);
    const rev = this.handlers.revision();
    if (rev !== null) target.searchParams.set("rev", String(rev));
    else target.searchParams.delete("rev");
    this.ready = false;
    this.handlers.status(this._connectingStatus());
    let ws;
    try {
      ws = new this.WebSocketImpl(target.toString());
    } catch (err) {
      console.warn("collabdocs: cannot open socket", err);
      this._failures += 1;
      this._scheduleReconnect();
      return;
    }
    this.ws = ws;
    this._gotHello = false;
    this._parts.reset();
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      if (this.holding) this.held.push([ws, event.data]);
      else this._receive(ws, event.data);
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this._onClose(event.code);
    };
    ws.onerror = () => {}; // a close event follows
  }

  /** Drop the current socket without reacting to its close event. */
  _dropSocket() {
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    this.held = [];
    this._parts.reset();
    this.handlers.gone(false);
    if (ws) {
      ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(CloseCode.CLIENT_RECONNECT, "reconnect");
      } catch {
        // already closing
      }
    }
  }

  /**
   * Parse one frame, join parts, and hand on what is whole.
   * @param {WebSocket} ws
   * @param {string} data
   */
  _receive(ws, data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      console.warn("collabdocs: ignoring a frame that is not JSON");
      return;
    }
    try {
      message = this._parts.take(message);
    } catch (err) {
      if (!(err instanceof PartError)) throw err;
      console.warn(`collabdocs: ${err.message}; reconnecting`);
      this.reconnectNow();
      return;
    }
    if (message === null) return; // more parts to come
    this.handlers.message(message, ws);
  }

  // ------------------------------------------------------------------ close

  /** @param {number} code */
  _onClose(code) {
    this.ws = null;
    this.ready = false;
    this.handlers.gone(true);
    if (this.stopped) return;
    const hadHello = this._gotHello;
    if (!this._gotHello) this._failures += 1;
    switch (code) {
      case CloseCode.REDIRECT: {
        const url = this._redirectUrl;
        this._redirectUrl = null;
        this._redirects += 1;
        if (url && this._redirects <= MAX_REDIRECTS) this._connect(url);
        else this._scheduleRoute(this._delay.later());
        break;
      }
      case CloseCode.NOT_LOGGED_IN:
        if (hadHello && !this._signedOutRetry) {
          // Maybe only this socket's session ended (a password change here
          // starts a new one): the next handshake carries the current cookie.
          this._signedOutRetry = true;
          this._connect(this.url);
        } else {
          this.handlers.stop(StopReason.SIGNED_OUT);
        }
        break;
      case CloseCode.FORBIDDEN:
        this.handlers.stop(StopReason.FORBIDDEN);
        break;
      case CloseCode.NOT_FOUND:
        this.handlers.stop(StopReason.GONE);
        break;
      case CloseCode.GOING_AWAY: {
        const hint = this._routeHint;
        this._routeHint = null;
        if (hint !== null) this._scheduleRoute(hint);
        else this._scheduleRoute(this._failures > 1 ? this._delay.later() : 0);
        break;
      }
      case CloseCode.TOO_MANY_SOCKETS:
        this.handlers.notice({ kind: "too_many", message: TOO_MANY_MESSAGE, text: "" });
        this._scheduleReconnect();
        break;
      case CloseCode.MESSAGE_TOO_BIG:
        this.handlers.oversized();
        this._scheduleReconnect({ immediate: true });
        break;
      default:
        this._scheduleReconnect();
    }
  }

  /**
   * Reconnect after a delay: to the same URL at first, through the route
   * endpoint once attempts in a row failed before ``hello``.
   * @param {{immediate?: boolean}} [options]
   */
  _scheduleReconnect({ immediate = false } = {}) {
    this._clearTimer();
    if (this.stopped) return;
    this.handlers.status(this._connectingStatus());
    if (!this.online) return; // setOnline(true) reconnects
    const delay = this._delay.next(immediate);
    const viaRoute = this._failures >= ROUTE_AFTER_FAILURES;
    this._timer = this.timers.setTimeout(() => {
      this._timer = null;
      if (viaRoute) this._lookupRoute();
      else this._connect(this.url);
    }, delay);
  }

  /** @param {number} delay */
  _scheduleRoute(delay) {
    this._clearTimer();
    if (this.stopped) return;
    this.handlers.status(this._connectingStatus());
    this._timer = this.timers.setTimeout(() => {
      this._timer = null;
      this._lookupRoute();
    }, delay);
  }

  /** Ask the route endpoint which worker owns the document, then go there. */
  async _lookupRoute() {
    if (this.stopped) return;
    let response;
    try {
      response = await this.fetchImpl(this.routeUrl, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json" },
      });
    } catch (err) {
      console.warn("collabdocs: route lookup failed", err);
      this._scheduleRoute(this._delay.later());
      return;
    }
    if (this.stopped) return;
    if (response.status === 401) return this.handlers.stop(StopReason.SIGNED_OUT);
    if (response.status === 404) return this.handlers.stop(StopReason.GONE);
    let url = null;
    if (response.ok) {
      try {
        url = (await response.json()).url;
      } catch {
        url = null;
      }
    }
    if (typeof url !== "string" || !url) {
      this._scheduleRoute(this._delay.later());
      return;
    }
    this._redirects = 0;
    this._failures = 0;
    this._connect(url);
  }

  _clearTimer() {
    if (this._timer !== null) this.timers.clearTimeout(this._timer);
    this._timer = null;
  }
}
