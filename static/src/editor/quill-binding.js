/**
 * Binds a Quill editor to a {@link Connection}: the person's changes go out,
 * the server's come in, remote cursors are drawn.
 *
 * Rules that keep the OT client and the editor in step:
 *
 * - Only ``text-change`` with source ``user`` is sent (typing, paste, undo,
 *   toolbar). Remote ops are applied with source ``api`` and content loads
 *   with ``setContents(…, "api")``; neither is ever sent.
 * - Before a server frame is handled, ``quill.update("user")`` flushes DOM
 *   mutations Quill has not turned into a ``text-change`` yet, so the OT
 *   client transforms the server op over them instead of applying it under
 *   them.
 * - While an IME composition is open, server frames are held (Quill batches
 *   the DOM during composition) and handled right after it ends.
 * - Undo/redo is Quill's history with ``userOnly: true``: remote ``api``
 *   changes are not recorded; the history transforms its stacks over them.
 *   Loading content clears it.
 *
 * @module editor/quill-binding
 */
import Delta from "quill-delta";

import { hasBadChars, sanitizeText } from "./protocol.js";
import { readableOn } from "./ui.js";

/**
 * Return a change that replaces the text ``delta`` inserted holding U+0000 or
 * lone surrogates with U+FFFD (same length), or null when there is none.
 *
 * @param {Delta} delta  a change just applied to the document
 * @returns {Delta|null}
 */
export function sanitizingFix(delta) {
  const fix = new Delta();
  let cursor = 0; // position in the document after ``delta``
  let done = 0; // how far ``fix`` has advanced
  let needed = false;
  for (const op of delta.ops) {
    if (typeof op.retain === "number") {
      cursor += op.retain;
    } else if (typeof op.insert === "string") {
      if (hasBadChars(op.insert)) {
        needed = true;
        fix.retain(cursor - done);
        fix.insert(sanitizeText(op.insert), op.attributes);
        fix.delete(op.insert.length);
        done = cursor + op.insert.length;
      }
      cursor += op.insert.length;
    } else if (op.insert !== undefined) {
      cursor += 1;
    }
  }
  return needed ? fix : null;
}

export class QuillBinding {
  /**
   * @param {Object} options
   * @param {import("quill").default} options.quill
   * @param {import("./connection.js").Connection|null} [options.connection]
   *   may be set later, before {@link attach}
   * @param {Object|null} [options.cursors]  the quill-cursors module
   */
  constructor({ quill, connection = null, cursors = null }) {
    this.quill = quill;
    this.connection = connection;
    this.cursors = cursors;
    this._redrawScheduled = false;
    this._flagTimers = new Map();
    this._flash = new Set();
    this.onUserChange = this.onUserChange.bind(this);
  }

  /** The adapter the connection calls (see ``EditorAdapter``). */
  get adapter() {
    const quill = this.quill;
    return {
      flush: () => {
        quill.update("user");
      },
      applyRemote: (delta) => {
        quill.updateContents(delta, "api");
      },
      loadContent: (content) => this.loadContent(content),
      getRange: () => {
        const range = quill.getSelection();
        return range ? { index: range.index, length: range.length } : null;
      },
    };
  }

  /** Start listening to the editor and the connection. */
  attach() {
    const { quill, connection } = this;
    quill.on("text-change", (delta, _old, source) => {
      if (source === "user") this.onUserChange(delta);
      this.scheduleRedraw();
    });
    quill.on("selection-change", (range, _old, source) => {
      if (range && source !== "silent") connection.presenceChanged();
    });
    quill.on("composition-start", () => connection.pause());
    quill.on("composition-end", () => {
      // Quill emits its text-change for the composition just before this.
      setTimeout(() => connection.resume(), 0);
    });
    connection.on("cursors", () => this.scheduleRedraw());
    connection.on("peers", () => this.scheduleRedraw());
    connection.on("presence", (session) => {
      this._flash.add(session);
      this.scheduleRedraw();
    });
  }

  /**
   * Send a change the person made.
   * @param {Delta} delta
   */
  onUserChange(delta) {
    if (this.connection.client.revision === null) {
      console.warn("collabdocs: edit before the document loaded was ignored");
      return;
    }
    let change = new Delta(delta.ops);
    const fix = sanitizingFix(change);
    if (fix) {
      this.quill.updateContents(fix, "silent");
      change = change.compose(fix);
    }
    this.connection.submit(change);
  }

  /**
   * Replace the editor's content with the server's, keeping the caret.
   * @param {Array<Object>} content
   */
  loadContent(content) {
    const quill = this.quill;
    const had = quill.hasFocus() ? quill.getSelection() : null;
    quill.setContents(new Delta(content), "api");
    quill.history.clear();
    if (had) {
      const max = Math.max(0, quill.getLength() - 1);
      quill.setSelection(Math.min(had.index, max), 0, "silent");
    }
  }

  /** Redraw remote cursors on the next frame. */
  scheduleRedraw() {
    if (!this.cursors || this._redrawScheduled) return;
    this._redrawScheduled = true;
    const run = () => {
      this._redrawScheduled = false;
      this.redrawCursors();
    };
    if (typeof requestAnimationFrame === "function") requestAnimationFrame(run);
    else setTimeout(run, 0);
  }

  /** Draw every peer's cursor at its range in the local document. */
  redrawCursors() {
    const cursors = this.cursors;
    if (!cursors) return;
    const { connection, quill } = this;
    const max = Math.max(0, quill.getLength() - 1);
    const seen = new Set();
    for (const peer of connection.peers.localRanges(connection.client)) {
      seen.add(peer.session);
      const user = peer.user || {};
      if (!cursors.cursors().some((c) => c.id === peer.session)) {
        const color = user.color || "#888";
        cursors.createCursor(peer.session, user.name || "Someone", color);
        const flag = quill.container.querySelector(`[id="ql-cursor-${CSS.escape(peer.session)}"] .ql-cursor-flag`);
        if (flag) flag.style.color = readableOn(color);
      }
      if (!peer.range) {
        cursors.moveCursor(peer.session, null);
        continue;
      }
      const index = Math.min(peer.range.index, max);
      const length = Math.max(0, Math.min(peer.range.length, max - index));
      cursors.moveCursor(peer.session, { index, length });
      if (this._flash.delete(peer.session)) this._flashFlag(peer.session);
    }
    for (const cursor of cursors.cursors()) {
      if (!seen.has(cursor.id)) cursors.removeCursor(cursor.id);
    }
    this._flash.clear();
  }

  /**
   * Show a cursor's name for a moment after it moves.
   * @param {string} session
   */
  _flashFlag(session) {
    this.cursors.toggleFlag(session, true);
    clearTimeout(this._flagTimers.get(session));
    this._flagTimers.set(
      session,
      setTimeout(() => {
        this._flagTimers.delete(session);
        this.cursors.toggleFlag(session, false);
      }, 2500),
    );
  }
}
