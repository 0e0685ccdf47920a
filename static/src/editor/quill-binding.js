/**
 * Binds a Quill editor to the collaboration: the person's changes go out,
 * the server's come in, remote cursors are drawn.
 *
 * The binding talks to the connection only through a narrow port
 * (connection.js ``EditingPort``: submit a change, report the selection,
 * hold and release server frames, read the peers' ranges), handed to
 * {@link QuillBinding#attach}; the connection reaches the editor through
 * {@link QuillBinding#adapter}. editor.js wires the two and tells the
 * binding when cursors need drawing again ({@link QuillBinding#scheduleRedraw},
 * {@link QuillBinding#flash}).
 *
 * Rules that keep the OT client and the editor in step:
 *
 * - Only ``text-change`` with source ``user`` is sent (typing, paste, undo,
 *   toolbar). It is first kept inside the schema (schema.js
 *   ``sanitizeChange``: what the server would refuse is mapped or dropped)
 *   and then normalized so that no boundary splits a surrogate pair
 *   (Quill's DOM diff can produce one next to an emoji; see normalize.js).
 *   When either step changes the document, the editor is corrected locally
 *   (source ``api`` for the schema, ``silent`` for the surrogates) so that
 *   the screen equals what the server stores.
 *   Remote ops are applied with source ``api`` and content loads
 *   with ``setContents(…, "api")``; neither is ever sent.
 * - Before a server frame is handled, ``quill.update("user")`` flushes DOM
 *   mutations Quill has not turned into a ``text-change`` yet, so the OT
 *   client transforms the server op over them instead of applying it under
 *   them.
 * - While an IME composition is open, server frames are held (Quill batches
 *   the DOM during composition) and handled right after it ends.
 * - The mode's rewrite ({@link QuillBinding#rewrite}) runs after the schema
 *   guard: Suggesting turns the change into a suggestion; the editor is
 *   corrected to it as part of the same undo entry (source ``user``, not
 *   sent again). An undo or redo replays Quill's history and is sent as
 *   its minimal effect.
 * - Undo/redo is Quill's history with ``userOnly: true``: remote ``api``
 *   changes are not recorded; the history transforms its stacks over them.
 *   Loading content clears it.
 *
 * @module editor/quill-binding
 */
import Delta from "quill-delta";

import { UNKNOWN_COLOR } from "./colors.js";
import { normalizeChange } from "./normalize.js";
import { DEFAULT_POLICY, nothingRemoved, sanitizeChange } from "./schema.js";

/**
 * A rewrite of the person's change before it is sent (review/modes.js).
 * ``correction`` turns the editor's document into ``old.compose(change)``;
 * ``caret`` / ``caretAfter`` (after a forward Delete) place the caret.
 * @typedef {(old: Delta, change: Delta, context: {fromHistory: boolean}) =>
 *   ({change: Delta, correction: Delta|null, caret: number|null, caretAfter?: number|null}|null)} Rewriter
 */

export class QuillBinding {
  /**
   * @param {Object} options
   * @param {import("quill").default} options.quill
   * @param {Object|null} [options.cursors]  the quill-cursors module
   * @param {import("./schema.js").EmbedPolicy} [options.policy]  the
   *   deployment's embed policy (which images and videos the server takes)
   * @param {(removed: import("./schema.js").Removed) => void} [options.onRemoved]
   *   told when a change of the person's lost content to the schema
   * @param {(background: string) => string} [options.inkOn]  the colour of a
   *   cursor's name on its colour
   */
  constructor({
    quill,
    cursors = null,
    policy = DEFAULT_POLICY,
    onRemoved = () => {},
    inkOn = () => "#fff",
  }) {
    this.quill = quill;
    /** @type {import("./connection.js").EditingPort|null} set by {@link attach} */
    this.port = null;
    this.cursors = cursors;
    this.inkOn = inkOn;
    this.policy = policy;
    this.onRemoved = onRemoved;
    this._redrawScheduled = false;
    this._flagTimers = new Map();
    this._flash = new Set();
    /**
     * The editing mode's rewrite of the person's change (review/modes.js):
     * Suggesting turns it into a suggestion, Editing strips others' marks.
     * @type {Rewriter|null}
     */
    this.rewrite = null;
    /** A correction of the editor is being applied (not sent again). */
    this._correcting = false;
    /** A change of the page's own is being applied ({@link applyOwn}): no rewrite. */
    this._verbatim = false;
    /** The last key pressed in the editor (Backspace or Delete decides the caret). */
    this._lastKey = "";
    this.onUserChange = this.onUserChange.bind(this);
  }

  /** The adapter the connection calls (dispatch.js ``EditorAdapter``). */
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

  /**
   * Start listening to the editor; its changes go to ``port``.
   * @param {import("./connection.js").EditingPort} port
   */
  attach(port) {
    const quill = this.quill;
    this.port = port;
    // On the container, capturing: before Quill's keyboard handles the key
    // (and makes the change) on the editor's root.
    quill.container.addEventListener(
      "keydown",
      (event) => {
        this._lastKey = event.key;
      },
      true,
    );
    quill.on("text-change", (delta, old, source) => {
      if (source === "user" && !this._correcting) this.onUserChange(delta, old);
      this.scheduleRedraw();
    });
    quill.on("selection-change", (range, _old, source) => {
      if (range && source !== "silent") port.selectionChanged();
    });
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    let composing;
    quill.on("composition-start", () => {
      port.hold();
      // Should the end never come (the page lost focus oddly), do not hold
      // the server's frames for ever.
      clearTimeout(composing);
      composing = setTimeout(() => port.release(), 10_000);
    });
    quill.on("composition-end", () => {
      clearTimeout(composing);
      // Quill emits its text-change for the composition just before this.
      setTimeout(() => port.release(), 0);
    });
  }

  /**
   * A peer's cursor moved: show its name for a moment on the next redraw.
   * @param {string} session
   */
  flash(session) {
    this._flash.add(session);
    this.scheduleRedraw();
  }

  /**
   * Send a change the person made.
   * @param {Delta} delta
   * @param {Delta} oldDoc  the document before it
   */
  onUserChange(delta, oldDoc) {
    if (!this.port || !this.port.loaded()) {
      console.warn("collabdocs: edit before the document loaded was ignored");
      return;
    }
    const old = new Delta(oldDoc.ops);
    const guarded = sanitizeChange(new Delta(delta.ops), this.policy);
    if (guarded.altered) {
      // Rare (a paste, a link typed without its scheme): correct the editor
      // to what will be stored. Diffing the whole document is O(length)
      // and independent of what Quill did with the refused parts.
      const expected = old.compose(guarded.change);
      const fix = this.quill.getContents().diff(expected);
      // Source "api": not sent, but the undo history (userOnly) transforms
      // its stacks over it, so undoing the person's change cannot take away
      // other text when the correction shortened it (a dropped embed).
      if (fix.ops.length) this.quill.updateContents(fix, "api");
      if (!nothingRemoved(guarded.removed)) this.onRemoved(guarded.removed);
    }
    if (!guarded.change.ops.length) return;
    let meant = guarded.change;
    if (this.rewrite && !this._verbatim) {
      // history.ignoreChange is true exactly while Quill replays an undo or redo.
      const fromHistory = Boolean(/** @type {any} */ (this.quill).history?.ignoreChange);
      const out = this.rewrite(old, meant, { fromHistory });
      if (out) {
        meant = out.change;
        if (out.correction && out.correction.ops.length) this._correct(out.correction);
        const caret = this._lastKey === "Delete" && out.caretAfter != null ? out.caretAfter : out.caret;
        // After Quill's own handling of this DOM update, which puts back the
        // native range it saved before it (quill/core/selection.js).
        if (caret != null && this.quill.hasFocus()) {
          queueMicrotask(() => this.quill.setSelection(caret, 0, "silent"));
        }
        if (!meant.ops.length) return;
      }
    }
    const { change, fix } = normalizeChange(old, meant);
    if (fix) this.quill.updateContents(fix, "silent");
    this.port.submit(change);
  }

  /**
   * Make ``delta`` the person's own change exactly as it is: applied to
   * the editor (and its undo history) and sent, past the mode's rewrite.
   * For changes the page composes (undoing a decision on suggestions).
   * Works in a read-only editor too (Viewing mode).
   * @param {Delta} delta
   */
  applyOwn(delta) {
    this._verbatim = true;
    try {
      /** @type {any} */ (this.quill).editReadOnly(() => this.quill.updateContents(delta, "user"));
    } finally {
      this._verbatim = false;
    }
  }

  /**
   * Show the rewritten change: apply ``correction`` as part of the person's
   * own edit, so one undo takes back the change as shown (the history merges
   * it into the entry it just recorded; ``lastRecorded`` makes sure of it).
   * @param {Delta} correction
   */
  _correct(correction) {
    const history = /** @type {any} */ (this.quill).history;
    if (history && history.stack.undo.length) history.lastRecorded = Date.now();
    this._correcting = true;
    try {
      this.quill.updateContents(correction, "user");
    } finally {
      this._correcting = false;
    }
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
    const { cursors, port, quill } = this;
    if (!cursors || !port) return;
    const max = Math.max(0, quill.getLength() - 1);
    const seen = new Set();
    for (const peer of port.peerRanges()) {
      seen.add(peer.session);
      const user = peer.user || {};
      if (!cursors.cursors().some((c) => c.id === peer.session)) {
        const color = user.color || UNKNOWN_COLOR; // the server always sends one
        cursors.createCursor(peer.session, user.name || "Someone", color);
        const flag = quill.container.querySelector(`[id="ql-cursor-${CSS.escape(peer.session)}"] .ql-cursor-flag`);
        if (flag instanceof HTMLElement) flag.style.color = this.inkOn(color);
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
   * Milliseconds a cursor's name stays up after its person last typed or
   * moved (each move starts it again). quill-cursors hides a flag at once
   * when told to (its ``hideDelayMs`` only delays a hover's end), so this
   * is the whole time a name shows after activity.
   */
  static FLAG_MS = 5000;

  /**
   * Show a cursor's name while its person is active and for
   * {@link QuillBinding.FLAG_MS} after.
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
      }, QuillBinding.FLAG_MS),
    );
  }
}
