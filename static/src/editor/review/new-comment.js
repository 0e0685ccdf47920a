/**
 * Making a comment thread: the composer card and the order of its steps.
 *
 * The person selects text and asks to comment (comments.js wires the
 * "Comment" button and Ctrl+Alt+M to {@link NewComment#open}); a composer
 * card opens beside the text, which stays highlighted (a CSS custom
 * highlight: the selection went into the composer). While it is open the
 * range follows every change of the text ({@link NewComment#moved}).
 *
 * On submit, in this order:
 *
 * 1. a new 16-character thread id is appended to the ``comment`` mark of
 *    every run of the range: one change, the person's own (sent like
 *    typing, in their undo stack), past the mode's rewrite and in a
 *    read-only editor too (the binding's ``applyOwn``);
 * 2. the browser waits until the server has acknowledged it (at most
 *    ``SYNC_WAIT_MS``), so nobody sees the thread before its anchor, and
 *    checks the mark is still there;
 * 3. ``POST threads`` (the host's ``post``).
 *
 * If a step fails the mark is taken out again (by editors: the server lets
 * commenters add thread ids, never remove them, so theirs stays, inert,
 * naming no thread), the error is shown as a notice and in the card, and
 * the text typed stays in the composer for another try.
 *
 * @module editor/review/new-comment
 */
import Delta from "quill-delta";

import { markChange, newThreadId, unmarkChange } from "./anchors.js";
import { quoteOf } from "./text.js";
import { threadKey } from "./thread-book.js";
import { draftCard } from "./threads.js";

/** The CSS highlight (comments.css ``::highlight``) of the text being commented on. */
const DRAFT_HIGHLIGHT = "comment-draft";

/** How long a new comment waits for its mark to be acknowledged. */
const SYNC_WAIT_MS = 8000;

/**
 * @typedef {{index: number, length: number}} Range
 * @typedef {{
 *   quill: any,
 *   binding: any,
 *   connection: any,
 *   notices: any,
 *   margin: import("./margin.js").Margin,
 *   rights: () => {canEdit: boolean, canComment: boolean},
 *   anchors: () => import("./anchors.js").Anchors,
 *   people: (query: string) => Promise<import("./mentions.js").Person[]>,
 *   post: (id: string, quote: string, body: string) => Promise<boolean>,
 * }} Host
 */

export class NewComment {
  /** @param {Host} host */
  constructor(host) {
    this.host = host;
    this.quill = host.quill;
    /** @type {{id: string, range: Range, area: HTMLTextAreaElement, busy: boolean}|null} */
    this.draft = null;
  }

  /**
   * Open the composer for the selected text. Tells the person why not
   * when they cannot; focuses the open composer if it holds text.
   */
  open() {
    const { notices, margin } = this.host;
    if (!this.host.rights().canComment) {
      notices.show({ kind: "comments", message: "You can view this document but not comment on it.", tone: "info" });
      return;
    }
    const range = this.quill.getSelection() || this.quill.selection?.lastRange || null;
    if (!range || range.length === 0) {
      notices.show({ kind: "comments", message: "Select the text you want to comment on, then press Comment.", tone: "info" });
      return;
    }
    if (this.draft) {
      if (this.draft.area.value.trim() || this.draft.busy) {
        margin.activate(threadKey(this.draft.id));
        this.draft.area.focus();
        return;
      }
      this.close();
    }
    notices.show({ kind: "comments", message: "" });
    const id = newThreadId();
    const { element, area } = draftCard({
      quote: quoteOf(this.quill.getText(range.index, range.length)),
      people: this.host.people,
      onSubmit: (body) => this._create(id, body),
      onCancel: () => this.close(),
    });
    const draft = { id, range: { index: range.index, length: range.length }, area, busy: false };
    this.draft = draft;
    margin.put(threadKey(id), element, () => (draft.range.length ? draft.range : null));
    margin.activate(threadKey(id));
    this._highlight();
    area.focus({ preventScroll: true });
  }

  /**
   * Close the composer.
   * @param {{keepCard?: boolean}} [options]  keepCard: the thread's own
   *   card has taken the composer's place under the same key
   */
  close({ keepCard = false } = {}) {
    const draft = this.draft;
    if (!draft) return;
    this.draft = null;
    this._highlight();
    if (!keepCard) this.host.margin.remove(threadKey(draft.id));
  }

  /**
   * The text changed: the range being commented on moves with it.
   * @param {Delta} delta
   */
  moved(delta) {
    if (!this.draft) return;
    const { index, length } = this.draft.range;
    const start = delta.transformPosition(index);
    const end = delta.transformPosition(index + length);
    this.draft.range = { index: start, length: Math.max(0, end - start) };
    this._highlight();
  }

  /**
   * Show the text being commented on while the composer has the focus: a
   * CSS custom highlight, which touches neither the content nor the DOM.
   * Redrawn after every change of the text (Quill may replace the nodes);
   * skipped where unsupported.
   */
  _highlight() {
    if (typeof Highlight === "undefined" || !CSS.highlights) return;
    CSS.highlights.delete(DRAFT_HIGHLIGHT);
    const range = this.draft?.range;
    if (!range || !range.length) return;
    const [first, firstOffset] = this.quill.getLeaf(range.index);
    const [last, lastOffset] = this.quill.getLeaf(range.index + range.length);
    if (!(first?.domNode instanceof Text) || !(last?.domNode instanceof Text)) return;
    const dom = document.createRange();
    try {
      dom.setStart(first.domNode, firstOffset);
      dom.setEnd(last.domNode, lastOffset);
    } catch {
      return; // offsets outside the nodes: nothing drawn, nothing lost
    }
    CSS.highlights.set(DRAFT_HIGHLIGHT, new Highlight(dom));
  }

  /**
   * Anchor and create thread ``id`` with its first message (see the
   * module's description). Rejects with a message for people.
   * @param {string} id
   * @param {string} body
   */
  async _create(id, body) {
    const draft = this.draft;
    if (!draft || draft.id !== id) throw new Error("This comment was closed.");
    const { index, length } = draft.range;
    if (!length) throw new Error("The text you selected was deleted. Select some text and comment again.");
    const anchored = () => this.host.anchors().spans.has(id);
    draft.busy = true;
    try {
      const quote = quoteOf(this.quill.getText(index, length));
      this._edit(new Delta(markChange(this.quill.getContents(index, length).ops, index, id)));
      if (!anchored()) throw new Error("The comment could not be attached to the text.");
      try {
        await this._synced();
        if (!anchored()) {
          throw new Error("The text was changed by someone else before the comment was attached. Try again.");
        }
        const known = await this.host.post(id, quote, body);
        if (this.draft?.id === id) this.close({ keepCard: known });
        this.host.margin.activate(threadKey(id));
      } catch (err) {
        this._unmark(id);
        throw err;
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.host.notices.show({ kind: "comments", message: `Your comment was not saved: ${message}`, tone: "error" });
      throw err;
    } finally {
      draft.busy = false;
    }
  }

  /**
   * Take thread ``id`` out of every comment mark (a failed creation); only
   * editors may (see the module's description).
   * @param {string} id
   */
  _unmark(id) {
    if (!this.host.rights().canEdit) return;
    const ops = unmarkChange(this.quill.getContents().ops, [id]);
    if (ops.length) this._edit(new Delta(ops));
  }

  /**
   * Apply a change of comment marks as the person's own, exactly as it is:
   * past the mode's rewrite (in Suggesting mode a mark is still a comment,
   * not a format suggestion) and in a read-only editor too (Viewing mode:
   * marking is not editing).
   * @param {Delta} change
   */
  _edit(change) {
    const { binding } = this.host;
    if (typeof binding?.applyOwn === "function") binding.applyOwn(change);
    else this.quill.editReadOnly(() => this.quill.updateContents(change, "user"));
  }

  /**
   * Resolve once the server has acknowledged every change sent so far, or
   * after ``SYNC_WAIT_MS`` (then the POST goes anyway; the mark follows
   * as soon as the connection allows).
   * @returns {Promise<void>}
   */
  _synced() {
    const { connection } = this.host;
    if (!connection.pending) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = window.setTimeout(done, SYNC_WAIT_MS);
      const off = connection.on("status", (/** @type {{pending: number}} */ { pending }) => {
        if (!pending) done();
      });
      function done() {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
  }
}
