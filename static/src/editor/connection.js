/**
 * The document's connection to the server: one WebSocket at a time, driving
 * the OT client, with reconnect, catch-up, resend, redirects and the
 * protocol's error handling.
 *
 * No DOM: the WebSocket class, ``fetch`` and the timers are injected, and the
 * editor is reached through a small adapter, so node tests can run it
 * against a fake server.
 *
 * Failure modes and what happens (protocol.md, "Reconnect" and the error
 * table):
 *
 * - Lost socket (any close code not listed below): reconnect with
 *   exponential backoff and jitter, with ``?rev=<last revision seen>``; the
 *   op in flight and the buffer are kept. ``hello.ops`` is caught up (an op
 *   carrying the in-flight id is its ack) and the in-flight op is resent with
 *   the same id. ``hello.content`` at the same revision: resend. At another
 *   revision: load it, drop the pending ops and show the person their text.
 *   After two failed attempts the route endpoint is asked where to go.
 * - A gap in revisions: drop the socket and reconnect with ``?rev=`` at once.
 * - ``redirect`` + 4301: follow it at once, at most 3 in a row; then wait
 *   with backoff and ``GET`` the route URL (401: signed out, 404: gone).
 * - 4429 (too many sockets for this user): say so, keep retrying with
 *   backoff.
 * - 4503: ask the route endpoint (after ``retry_after`` when an
 *   ``unavailable`` error without an op id came first: no server serves the
 *   document right now). 4401: signed out. 4403: access lost.
 *   4404: document gone. These three stop the connection for good.
 * - ``rate_limited`` / ``unavailable``: resend the same op after
 *   ``retry_after`` or a backoff from 250 ms doubling to 10 s, forever.
 *   ``rate_limited`` also shows a calm ``rate_limited`` notice with the
 *   wait; the next ack withdraws it (a notice with an empty message).
 * - ``bad_op`` / ``bad_message`` / ``stale`` / ``too_large`` / ``forbidden``
 *   (and close 1009): reload from the server state; the pending ops are
 *   dropped and their text is shown to the person, with the server's own
 *   message for ``bad_op`` / ``bad_message`` / ``too_large``.
 * - ``part`` frames (a server frame over 256 KiB, split): joined in order
 *   and handled as the one frame they carry. A malformed sequence (out of
 *   order, another frame in between, not JSON when joined) drops the
 *   socket and reconnects with ``?rev=`` at once; nothing of it was applied.
 *
 * Events (``connection.on(name, handler)``): ``status`` ({status, pending,
 * retrying}), ``access`` ({canEdit, ready}), ``peers`` (list), ``cursors``,
 * ``presence`` (session), ``notice`` ({kind, message, text}), ``title``
 * (string), ``hello`` (frame).
 *
 * @module editor/connection
 */
import { Backoff } from "./backoff.js";
import { Emitter } from "./emitter.js";
import { RevisionGap } from "./ot-client.js";
import { Peers } from "./peers.js";
import {
  CloseCode,
  ErrorCode,
  MAX_REDIRECTS,
  MessageType,
  OP_RETRY,
  PROTOCOL_VERSION,
  RECONNECT,
  PartAssembler,
  PartError,
  RELOAD_ERRORS,
  RETRY_ERRORS,
  insertedText,
  opMessage,
  presenceMessage,
} from "./protocol.js";

/** Connection states, as shown by the indicator. */
export const Status = Object.freeze({
  CONNECTING: "connecting",
  CONNECTED: "connected",
  RECONNECTING: "reconnecting",
  OFFLINE: "offline",
  STOPPED: "stopped",
});

/** Why the connection stopped for good (``notice.kind``). */
export const StopReason = Object.freeze({
  SIGNED_OUT: "signed_out",
  FORBIDDEN: "forbidden",
  GONE: "gone",
  PROTOCOL: "protocol",
});

const OPEN = 1;

const STOP_MESSAGES = {
  [StopReason.SIGNED_OUT]: "You have been signed out. Sign in again to keep editing.",
  [StopReason.FORBIDDEN]: "You no longer have access to this document.",
  [StopReason.GONE]: "This document no longer exists, or it is no longer shared with you.",
  [StopReason.PROTOCOL]: "This page is out of date. Reload it to keep editing.",
};

const RELOAD_MESSAGES = {
  [ErrorCode.BAD_OP]: "The server refused a change, so the document was reloaded.",
  [ErrorCode.BAD_MESSAGE]: "The server could not read a message, so the document was reloaded.",
  [ErrorCode.FORBIDDEN]: "You can no longer edit this document.",
  [ErrorCode.STALE]: "You were away too long to merge your changes, so the document was reloaded.",
  [ErrorCode.TOO_LARGE]: "That change is too large to save.",
};

/** Errors whose ``message`` names what was wrong: shown to the person. */
const EXPLAINED_ERRORS = new Set([ErrorCode.BAD_OP, ErrorCode.BAD_MESSAGE, ErrorCode.TOO_LARGE]);

/** Longest part of a server message shown in a notice. */
const MAX_REASON_LENGTH = 300;

/**
 * Return the notice text for a refused change: ours, then the server's.
 * @param {{code: string, message?: string}} error
 * @returns {string|null}
 */
export function reloadMessage(error) {
  const ours = RELOAD_MESSAGES[error.code] || null;
  const theirs = typeof error.message === "string" ? error.message.trim() : "";
  if (!ours || !theirs || !EXPLAINED_ERRORS.has(error.code)) return ours;
  const reason = theirs.length > MAX_REASON_LENGTH ? `${theirs.slice(0, MAX_REASON_LENGTH)}…` : theirs;
  return `${ours} The server said: ${reason}`;
}

/**
 * Return the notice text while the server rate-limits the person's edits.
 * @param {number} delay  ms until the op is sent again
 */
export function throttledMessage(delay) {
  const seconds = Math.max(1, Math.ceil(delay / 1000));
  return `You're typing faster than the server accepts; catching up… (next try in ${seconds} s)`;
}

/**
 * What the connection needs from the editor.
 *
 * @typedef {Object} EditorAdapter
 * @property {() => void} flush  hand pending local edits to ``submit`` now
 * @property {(delta: import("quill-delta").default) => void} applyRemote
 * @property {(content: Array<Object>) => void} loadContent
 * @property {() => ({index: number, length: number}|null)} getRange
 */

export class Connection extends Emitter {
  /**
   * @param {Object} options
   * @param {string} options.url  absolute ws(s) URL of the document's socket
   *   on the page's origin
   * @param {string} options.routeUrl  the route endpoint
   * @param {import("./ot-client.js").OTClient} options.client
   * @param {EditorAdapter} options.adapter
   * @param {boolean} [options.canEdit]  what the page said, until ``hello``
   * @param {typeof WebSocket} [options.WebSocketImpl]
   * @param {typeof fetch} [options.fetchImpl]
   * @param {{setTimeout: Function, clearTimeout: Function}} [options.timers]
   * @param {() => number} [options.random]
   * @param {() => number} [options.now]
   * @param {number} [options.presenceInterval]  ms between presence frames
   */
  constructor({
    url,
    routeUrl,
    client,
    adapter,
    canEdit = true,
    WebSocketImpl = globalThis.WebSocket,
    fetchImpl = (...args) => globalThis.fetch(...args),
    timers = globalThis,
    random = Math.random,
    now = () => Date.now(),
    presenceInterval = 100,
  }) {
    super();
    this.homeUrl = url;
    this.url = url;
    this.routeUrl = routeUrl;
    this.client = client;
    this.adapter = adapter;
    this.canEdit = canEdit;
    this.WebSocketImpl = WebSocketImpl;
    this.fetchImpl = fetchImpl;
    this.timers = timers;
    this.now = now;
    this.presenceInterval = presenceInterval;
    this.peers = new Peers();

    /** @type {WebSocket|null} */
    this.ws = null;
    /** ``hello`` processed on the current socket. */
    this.ready = false;
    this.status = Status.CONNECTING;
    /** @type {string|null} */
    this.stopReason = null;
    /** @type {string|null} this connection's id, from ``hello`` */
    this.session = null;
    /** @type {{id: number, name: string, color: string}|null} */
    this.user = null;
    this.online = true;
    this.hellos = 0;

    this._reconnect = new Backoff({ ...RECONNECT, random });
    this._opRetry = new Backoff({ ...OP_RETRY, random });
    this._timer = null;
    this._retryTimer = null;
    this._presenceTimer = null;
    this._redirects = 0;
    this._redirectUrl = null;
    /** @type {number | null} ms to wait before the route after the next 4503 */
    this._closeHint = null;
    this._failures = 0;
    this._quick = [];
    this._fullReload = false;
    this._reloadMessage = null;
    this._sent = null;
    this._lastPresence = null;
    this._lastPresenceAt = -Infinity;
    this._paused = false;
    this._inbox = [];
    this._presenceDirty = false;
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
    /** A ``rate_limited`` notice is showing. */
    this._throttled = false;
  }

  // ------------------------------------------------------------------ public

  /** Open the first socket. */
  start() {
    this._connect(this.homeUrl);
  }

  /** Close for good without telling the person (page unload, tests). */
  close() {
    this.stopReason = this.stopReason || "closed";
    this._teardown();
  }

  /**
   * Take a change the person made (Quill ``text-change`` with source user).
   * @param {import("quill-delta").default} delta
   */
  submit(delta) {
    if (this.client.revision === null || this.stopReason) return;
    const send = this.client.applyClient(delta);
    if (send) this._sendInflight();
    this._emitStatus();
    this.emit("cursors");
  }

  /** The person's selection moved: send presence when allowed (throttled). */
  presenceChanged() {
    this._presenceDirty = true;
    this._schedulePresence();
  }

  /**
   * Hold incoming frames (while an IME composition is open) until
   * {@link resume}.
   */
  pause() {
    this._paused = true;
  }

  /** Process the frames held by {@link pause}. */
  resume() {
    this._paused = false;
    while (!this._paused && this._inbox.length) {
      const [ws, data] = this._inbox.shift();
      if (ws === this.ws) this._handleFrame(ws, data);
    }
  }

  /**
   * Tell the connection whether the browser is online.
   * @param {boolean} online
   */
  setOnline(online) {
    this.online = online;
    if (this.stopReason) return;
    if (!online) {
      this._setStatus(Status.OFFLINE);
      return;
    }
    if (!this.ws) {
      this._clearTimer();
      this._reconnect.reset();
      this._connect(this.url);
    } else {
      this._setStatus(this.ready ? Status.CONNECTED : this._connectingStatus());
    }
  }

  /** Number of the person's changes not yet saved. */
  get pending() {
    return this.client.pendingEdits;
  }

  // ------------------------------------------------------------- transport

  _connectingStatus() {
    if (!this.online) return Status.OFFLINE;
    return this.hellos || this._failures ? Status.RECONNECTING : Status.CONNECTING;
  }

  /** @param {string} url */
  _connect(url) {
    this._clearTimer();
    if (this.stopReason) return;
    this.url = url;
    const target = new URL(url);
    if (this.client.revision !== null && !this._fullReload) {
      target.searchParams.set("rev", String(this.client.revision));
    } else {
      target.searchParams.delete("rev");
    }
    this.ready = false;
    this._setStatus(this._connectingStatus());
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
      if (this._paused) this._inbox.push([ws, event.data]);
      else this._handleFrame(ws, event.data);
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this._onClose(event.code, event.reason);
    };
    ws.onerror = () => {}; // a close event follows
  }

  /** Drop the current socket without reacting to its close event. */
  _dropSocket() {
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    this._clearPresenceTimer();
    this._inbox = [];
    this._parts.reset();
    if (ws) {
      ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(CloseCode.CLIENT_RECONNECT, "reconnect");
      } catch {
        // already closing
      }
    }
  }

  _teardown() {
    this._dropSocket();
    this._clearTimer();
    this._clearRetryTimer();
  }

  /** @param {Object} message */
  _send(message) {
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

  /**
   * Send the op in flight unless it is already on this socket or waiting
   * for a retry.
   * @param {boolean} [force]  send even if already sent on this socket
   */
  _sendInflight(force = false) {
    if (!this.ready || this._retryTimer !== null) return;
    const out = this.client.outgoing();
    if (!out) return;
    if (!force && this._sent && this._sent.id === out.id && this._sent.ws === this.ws) return;
    if (this._send(opMessage(out))) this._sent = { id: out.id, ws: this.ws };
  }

  // -------------------------------------------------------------- incoming

  /**
   * @param {WebSocket} ws
   * @param {string} data
   */
  _handleFrame(ws, data) {
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
      return this._onBadParts(err);
    }
    if (message === null) return; // more parts to come
    // Local edits the editor has not reported yet come first: a server op
    // must be transformed against them, not applied under them.
    this.adapter.flush();
    this._dispatch(ws, message);
  }

  /**
   * @param {WebSocket} ws
   * @param {Object} message
   */
  _dispatch(ws, message) {
    if (ws !== this.ws || !message || typeof message !== "object") return;
    switch (message.type) {
      case MessageType.HELLO:
        this._onHello(message);
        break;
      case MessageType.BATCH:
        for (const element of message.messages || []) this._dispatch(ws, element);
        break;
      case MessageType.OP:
        if (this.ready) this._onOp(message);
        break;
      case MessageType.ACK:
        if (this.ready) this._onAck(message);
        break;
      case MessageType.PRESENCE:
        this.peers.presence(message.session, message.user, message.range, message.rev);
        this.emit("peers", this.peers.list());
        this.emit("presence", message.session);
        break;
      case MessageType.JOIN:
        this.peers.join(message.session, message.user);
        this.emit("peers", this.peers.list());
        break;
      case MessageType.LEAVE:
        this.peers.leave(message.session);
        this.emit("peers", this.peers.list());
        this.emit("cursors");
        break;
      case MessageType.REDIRECT:
        this._redirectUrl = message.url;
        break;
      case MessageType.ERROR:
        this._onError(message);
        break;
      case MessageType.TITLE:
        if (typeof message.title === "string") this.emit("title", message.title);
        break;
      case MessageType.ACCESS:
        this._setCanEdit(Boolean(message.can_edit));
        break;
      default:
        // Unknown types are left alone: a newer server may send more.
        break;
    }
  }

  /** @param {Object} hello */
  _onHello(hello) {
    if (hello.protocol !== PROTOCOL_VERSION) {
      this._stop(StopReason.PROTOCOL);
      return;
    }
    this.session = hello.session;
    this.user = hello.user || null;
    const client = this.client;
    const catchUp = Array.isArray(hello.ops) && client.revision !== null && !this._fullReload;
    if (catchUp) {
      try {
        for (const op of hello.ops) this._applyServerOp(op);
      } catch (err) {
        if (!(err instanceof RevisionGap)) throw err;
      }
      if (client.revision !== hello.rev) {
        // The catch-up does not line up: start again from the content.
        console.warn("collabdocs: catch-up ended at", client.revision, "not", hello.rev);
        this._reload(null);
        return;
      }
    } else if (Array.isArray(hello.content)) {
      if (this._fullReload || client.revision === null || hello.rev !== client.revision) {
        const initial = client.revision === null;
        this._load(hello.content, hello.rev, this._reloadMessage, initial);
      }
    } else {
      console.warn("collabdocs: hello without content or ops");
      this._reload(null);
      return;
    }
    this._fullReload = false;
    this._reloadMessage = null;
    this._gotHello = true;
    this._signedOutRetry = false;
    this.hellos += 1;
    this._failures = 0;
    this._redirects = 0;
    this._reconnect.reset();
    this._sent = null;
    this.ready = true;
    this.peers.reset(hello.peers, hello.rev);
    this._setCanEdit(hello.can_edit !== false);
    this._setStatus(this.online ? Status.CONNECTED : Status.OFFLINE);
    this.emit("hello", hello);
    this.emit("peers", this.peers.list());
    this._sendInflight();
    if (client.isSynchronized) this._sendPresence();
    this.emit("cursors");
  }

  /**
   * Apply one server op (broadcast or from ``hello.ops``).
   * @param {Object} op
   * @returns {Object} the OT client's result
   */
  _applyServerOp(op) {
    const result = this.client.serverOp(op);
    if (result.status === "applied") {
      if (result.delta.ops.length) this.adapter.applyRemote(result.delta);
    } else if (result.status === "acked") {
      this._opRetry.reset();
      this._clearRetryTimer();
      this._clearThrottled();
    }
    return result;
  }

  /** @param {Object} message */
  _onOp(message) {
    let result;
    try {
      result = this._applyServerOp(message);
    } catch (err) {
      if (err instanceof RevisionGap) return this._onGap(err);
      throw err;
    }
    if (result.status === "acked") this._afterAck(result);
    this.emit("cursors");
  }

  /** @param {Object} message */
  _onAck(message) {
    let result;
    try {
      result = this.client.serverAck(message.id, message.rev);
    } catch (err) {
      if (err instanceof RevisionGap) return this._onGap(err);
      throw err;
    }
    if (result.status === "acked") {
      this._opRetry.reset();
      this._clearRetryTimer();
      this._clearThrottled();
      this._afterAck(result);
    }
  }

  /** @param {{send: Object|null, synchronized: boolean}} result */
  _afterAck(result) {
    if (result.send) this._sendInflight();
    if (result.synchronized) this._sendPresence();
    this._emitStatus();
    this.emit("cursors");
  }

  /** @param {PartError} err */
  _onBadParts(err) {
    console.warn(`collabdocs: ${err.message}; reconnecting`);
    this._dropSocket();
    this._scheduleReconnect({ immediate: true });
  }

  /** @param {RevisionGap} err */
  _onGap(err) {
    console.warn(`collabdocs: ${err.message}; catching up`);
    this._dropSocket();
    this._scheduleReconnect({ immediate: true });
  }

  /** @param {{code: string, message?: string, id?: string, retry_after?: number}} error */
  _onError(error) {
    const inflight = this.client.inflight;
    const aboutInflight = Boolean(error.id && inflight && error.id === inflight.id);
    if (RETRY_ERRORS.has(error.code)) {
      // ``unavailable`` + ``retry_after`` without an op id comes before a
      // 4503 (no server serves the document right now): wait that long.
      if (!error.id && Number.isFinite(error.retry_after)) this._closeHint = Math.max(error.retry_after, 0);
      if (!aboutInflight) return;
      const delay = this._retryLater(error);
      if (error.code === ErrorCode.RATE_LIMITED) {
        this._throttled = true;
        this.emit("notice", { kind: "rate_limited", message: throttledMessage(delay), text: "" });
      }
      return;
    }
    if (error.code === ErrorCode.DENIED) return; // a close code follows
    if (!RELOAD_ERRORS.has(error.code)) {
      console.warn("collabdocs: unknown error", error);
      return;
    }
    // An error about an op no longer in flight (already acked, or dropped)
    // changes nothing.
    if (error.id && !aboutInflight) return;
    console.warn(`collabdocs: ${error.code}: ${error.message || ""}`);
    if (error.code === ErrorCode.FORBIDDEN) this._setCanEdit(false);
    this._reload(reloadMessage(error));
  }

  /**
   * Resend the op in flight after ``retry_after`` or the backoff.
   * @param {{retry_after?: number}} error
   * @returns {number} the delay in ms
   */
  _retryLater(error) {
    this._clearRetryTimer();
    const backoff = this._opRetry.next();
    const delay = Number.isFinite(error.retry_after) ? Math.max(error.retry_after, 0) : backoff;
    this._retryTimer = this.timers.setTimeout(() => {
      this._retryTimer = null;
      this._sendInflight(true);
    }, delay);
    this._emitStatus();
    return delay;
  }

  /** Withdraw the ``rate_limited`` notice: ops are acked again, or dropped. */
  _clearThrottled() {
    if (!this._throttled) return;
    this._throttled = false;
    this.emit("notice", { kind: "rate_limited", message: "", text: "" });
  }

  // ---------------------------------------------------------- state changes

  /**
   * Replace the document with the server's and drop the pending ops,
   * telling the person what could not be saved.
   *
   * @param {Array<Object>} content
   * @param {number} rev
   * @param {string|null} message
   * @param {boolean} initial  first load of the page
   */
  _load(content, rev, message, initial) {
    const dropped = this.client.reset(rev);
    this._opRetry.reset();
    this._clearRetryTimer();
    this._clearThrottled();
    this.adapter.loadContent(content);
    if (dropped.edits > 0 && !initial) {
      this.emit("notice", {
        kind: "unsaved",
        message: message || "The document changed while you were offline; your latest changes could not be merged.",
        text: insertedText(dropped.delta),
      });
    } else if (message) {
      this.emit("notice", { kind: "reloaded", message, text: "" });
    }
    this._emitStatus();
  }

  /**
   * Reload from the server state: reconnect without ``?rev=`` and load the
   * content of the ``hello``.
   * @param {string|null} message
   */
  _reload(message) {
    this._fullReload = true;
    this._reloadMessage = message;
    this._dropSocket();
    this._scheduleReconnect({ immediate: true });
  }

  /** @param {boolean} canEdit */
  _setCanEdit(canEdit) {
    this.canEdit = canEdit;
    this.emit("access", { canEdit, ready: this.ready || this.hellos > 0 });
  }

  /** @param {string} reason one of {@link StopReason} */
  _stop(reason) {
    if (this.stopReason) return;
    this.stopReason = reason;
    this._teardown();
    this._clearThrottled();
    this.peers.reset([], 0); // nobody is known to be here any more
    this.emit("peers", this.peers.list());
    this.emit("cursors");
    this._setStatus(Status.STOPPED);
    this.emit("access", { canEdit: false, ready: this.hellos > 0 });
    this.emit("notice", {
      kind: reason,
      message: STOP_MESSAGES[reason],
      text: this._unsavedText(),
    });
  }

  _unsavedText() {
    let text = "";
    for (const p of this.client.state.pending) text += insertedText(p.delta);
    return text;
  }

  // ------------------------------------------------------------------ close

  /**
   * @param {number} code
   * @param {string} _reason
   */
  _onClose(code, _reason) {
    this.ws = null;
    this.ready = false;
    this._clearPresenceTimer();
    this._clearRetryTimer();
    if (this.stopReason) return;
    const hadHello = this._gotHello;
    if (!this._gotHello) this._failures += 1;
    switch (code) {
      case CloseCode.REDIRECT: {
        const url = this._redirectUrl;
        this._redirectUrl = null;
        this._redirects += 1;
        if (url && this._redirects <= MAX_REDIRECTS) this._connect(url);
        else this._scheduleRoute(this._reconnect.next());
        break;
      }
      case CloseCode.NOT_LOGGED_IN:
        if (hadHello && !this._signedOutRetry) {
          // Maybe only this socket's session ended (a password change here
          // starts a new one): the next handshake carries the current cookie.
          this._signedOutRetry = true;
          this._connect(this.url);
        } else {
          this._stop(StopReason.SIGNED_OUT);
        }
        break;
      case CloseCode.FORBIDDEN:
        this._stop(StopReason.FORBIDDEN);
        break;
      case CloseCode.NOT_FOUND:
        this._stop(StopReason.GONE);
        break;
      case CloseCode.MOVED: {
        const hint = this._closeHint;
        this._closeHint = null;
        if (hint !== null) this._scheduleRoute(hint);
        else this._scheduleRoute(this._failures > 1 ? this._reconnect.next() : 0);
        break;
      }
      case CloseCode.TOO_MANY_SOCKETS:
        this.emit("notice", {
          kind: "too_many",
          message: "This document is open in too many tabs or windows. Close some; this one keeps trying to reconnect.",
          text: "",
        });
        this._scheduleReconnect();
        break;
      case CloseCode.MESSAGE_TOO_BIG:
        this._fullReload = true;
        this._reloadMessage = RELOAD_MESSAGES[ErrorCode.TOO_LARGE];
        this._scheduleReconnect({ immediate: true });
        break;
      default:
        this._scheduleReconnect();
    }
  }

  /**
   * Reconnect after a delay: to the same URL at first, through the route
   * endpoint once two attempts in a row failed before ``hello``.
   * @param {{immediate?: boolean}} [options]
   */
  _scheduleReconnect({ immediate = false } = {}) {
    this._clearTimer();
    if (this.stopReason) return;
    this._setStatus(this._connectingStatus());
    if (!this.online) return; // setOnline(true) reconnects
    let delay;
    const t = this.now();
    this._quick = this._quick.filter((at) => t - at < 10_000);
    if (immediate && this._quick.length < 3) {
      this._quick.push(t);
      delay = 0;
    } else {
      delay = this._reconnect.next();
    }
    const viaRoute = this._failures >= 2;
    this._timer = this.timers.setTimeout(() => {
      this._timer = null;
      if (viaRoute) this._lookupRoute();
      else this._connect(this.url);
    }, delay);
  }

  /** @param {number} delay */
  _scheduleRoute(delay) {
    this._clearTimer();
    if (this.stopReason) return;
    this._setStatus(this._connectingStatus());
    this._timer = this.timers.setTimeout(() => {
      this._timer = null;
      this._lookupRoute();
    }, delay);
  }

  /** Ask the route endpoint which worker owns the document, then go there. */
  async _lookupRoute() {
    if (this.stopReason) return;
    let response;
    try {
      response = await this.fetchImpl(this.routeUrl, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json" },
      });
    } catch (err) {
      console.warn("collabdocs: route lookup failed", err);
      this._scheduleRoute(this._reconnect.next());
      return;
    }
    if (this.stopReason) return;
    if (response.status === 401) return this._stop(StopReason.SIGNED_OUT);
    if (response.status === 404) return this._stop(StopReason.GONE);
    let url = null;
    if (response.ok) {
      try {
        url = (await response.json()).url;
      } catch {
        url = null;
      }
    }
    if (typeof url !== "string" || !url) {
      this._scheduleRoute(this._reconnect.next());
      return;
    }
    this._redirects = 0;
    this._failures = 0;
    this._connect(url);
  }

  // --------------------------------------------------------------- presence

  _schedulePresence() {
    if (!this.ready || this._presenceTimer !== null) return;
    const wait = this._lastPresenceAt + this.presenceInterval - this.now();
    if (wait <= 0) {
      this._sendPresence();
      return;
    }
    this._presenceTimer = this.timers.setTimeout(() => {
      this._presenceTimer = null;
      this._sendPresence();
    }, wait);
  }

  /**
   * Send the person's range now if synchronized (the range then refers to
   * the server document at ``client.revision``); otherwise it goes after
   * the ack that makes the client synchronized.
   */
  _sendPresence() {
    this._clearPresenceTimer();
    if (!this.ready) return;
    const range = this.adapter.getRange(); // may flush a local edit first
    if (!this.client.isSynchronized || !range) return;
    const rev = this.client.revision;
    const last = this._lastPresence;
    if (last && last.ws === this.ws && last.rev === rev && last.index === range.index && last.length === range.length) {
      this._presenceDirty = false;
      return;
    }
    if (this._send(presenceMessage(rev, range))) {
      this._lastPresence = { ws: this.ws, rev, index: range.index, length: range.length };
      this._lastPresenceAt = this.now();
      this._presenceDirty = false;
    }
  }

  // ------------------------------------------------------------------ misc

  /** @param {string} status */
  _setStatus(status) {
    this.status = status;
    this._emitStatus();
  }

  _emitStatus() {
    this.emit("status", {
      status: this.status,
      pending: this.client.pendingEdits,
      retrying: this._retryTimer !== null,
    });
  }

  _clearTimer() {
    if (this._timer !== null) this.timers.clearTimeout(this._timer);
    this._timer = null;
  }

  _clearRetryTimer() {
    if (this._retryTimer !== null) this.timers.clearTimeout(this._retryTimer);
    this._retryTimer = null;
  }

  _clearPresenceTimer() {
    if (this._presenceTimer !== null) this.timers.clearTimeout(this._presenceTimer);
    this._presenceTimer = null;
  }
}
