/**
 * Comment threads in the margin beside their anchors (issue 12, contract
 * §5 and §7).
 *
 * Entry point called once by editor.js after the connection is made:
 * {@link installComments} makes the review margin (margin.js) and the
 * comments, and returns the {@link Comments}; the suggestion cards share its
 * ``margin``.
 *
 * How a comment is made: the person selects text and presses "Comment"
 * (toolbar row) or Ctrl+Alt+M; new-comment.js marks the text with a new
 * thread id, waits for the server to acknowledge the mark, then creates
 * the thread (``POST threads``, through {@link Comments#_post}).
 *
 * What is shown. Threads load with ``GET threads`` after every ``hello``
 * (a reconnect catches up) and follow the ``review`` frames
 * (thread-book.js orders the two). Open threads have cards beside their
 * anchors; resolved ones only in the "Resolved (n)" view, and their text is
 * not highlighted. A thread whose id no text carries any more is detached:
 * listed after the others with its quote and "Original text deleted".
 * The anchored text is highlighted through one constructed style sheet
 * (``[data-comment~="<id>"]``; the CSP allows no ``<style>`` element), the
 * active thread's more strongly. Clicking highlighted text activates its
 * card (the margin's finder); clicking a card scrolls its text into view.
 * A link to ``#thread-<id>`` (notifications) opens that thread.
 *
 * Rights come from ``access()`` and the ``access`` event: viewers read;
 * commenters and editors comment, reply, resolve; see threads.js.
 *
 * @module editor/review/comments
 */
import "./comments.css";

import { api } from "../../api.js";
import { idsAt, scanAnchors } from "./anchors.js";
import { Margin } from "./margin.js";
import { NewComment } from "./new-comment.js";
import { timeAgo } from "./text.js";
import { ThreadBook, asThread, changeOf, threadKey as keyOf, threadOfKey as idOf } from "./thread-book.js";
import { ThreadCard } from "./threads.js";

/**
 * @typedef {{
 *   quill: any,
 *   app: HTMLElement,
 *   margin: HTMLElement,
 *   connection: any,
 *   binding: any,
 *   notices: any,
 *   me: {id: number, name: string},
 *   docId: string,
 *   access: () => {canEdit: boolean, canComment: boolean},
 * }} Context
 * @typedef {import("./thread-book.js").Thread} Thread
 */

/**
 * Make the margin and the comments (see the module's description).
 * @param {Context} context
 * @returns {Comments}  its ``margin`` is the review margin
 */
export function installComments(context) {
  return new Comments(context, new Margin(context.quill, context.margin));
}

export class Comments {
  /**
   * @param {Context} context
   * @param {Margin} margin
   */
  constructor(context, margin) {
    this.quill = context.quill;
    this.binding = context.binding;
    this.connection = context.connection;
    this.notices = context.notices;
    this.me = context.me;
    this.access = context.access;
    this.margin = margin;
    this.base = `/api/docs/${context.docId}`;
    this.book = new ThreadBook();
    /** @type {Map<string, ThreadCard>} */
    this.cards = new Map();
    this.showResolved = false;
    /** @type {import("./anchors.js").Anchors|null} the marks, rescanned after a change */
    this._anchors = null;
    this._checkFrame = 0;
    this._loads = 0;
    /** @type {string|null} a ``#thread-<id>`` to open once threads are loaded */
    this._wanted = threadInHash(window.location.hash);

    // Two sheets: the open threads' (changes with the threads) and the
    // active one's (changes as the caret moves), so moving the caret never
    // rebuilds hundreds of selectors.
    this.sheet = new CSSStyleSheet();
    this.activeSheet = new CSSStyleSheet();
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, this.sheet, this.activeSheet];
    this._painted = "";
    this.newComment = new NewComment({
      quill: this.quill,
      binding: this.binding,
      connection: this.connection,
      notices: this.notices,
      margin,
      rights: () => this.rights(),
      anchors: () => this.anchors(),
      people: (query) => this.people(query),
      post: (id, quote, body) => this._post(id, quote, body),
    });
    const { comment, resolved } = this._makeActions();
    this.commentButton = comment;
    this.resolvedButton = resolved;
    this._countResolved();

    this.quill.on("text-change", (/** @type {import("quill-delta").default} */ delta) => this._changed(delta));
    margin.findWith((index) => {
      const ids = idsAt(this.anchors(), index).filter((id) => this._shown(id));
      if (!ids.length) return null;
      const active = idOf(margin.active);
      return keyOf(active && ids.includes(active) ? active : ids[ids.length - 1]);
    });
    margin.on("activate", (/** @type {string|null} */ key, /** @type {{source: string}} */ { source }) => {
      this._paintActive();
      const id = idOf(key);
      if (id) this.cards.get(id)?.openReply();
      if (id && source === "card") this._reveal(id);
    });
    this.connection.on("hello", () => this.load());
    this.connection.on("review", (/** @type {any} */ payload) => this._frame(payload));
    this.connection.on("access", () => this._rightsChanged());
    window.addEventListener("hashchange", () => {
      this._wanted = threadInHash(window.location.hash);
      this._openWanted();
    });
    document.addEventListener("keydown", (event) => {
      // AltGr is Ctrl+Alt on some systems: AltGr+M types a character there.
      const altGr = event.getModifierState && event.getModifierState("AltGraph");
      if ((event.ctrlKey || event.metaKey) && event.altKey && !altGr && event.code === "KeyM") {
        event.preventDefault();
        this.newComment.open();
      }
    });
    // Relative times stay true while the page is open.
    window.setInterval(() => refreshTimes(margin.element), 60_000);
  }

  /** The rights of this person now. */
  rights() {
    const { canEdit, canComment } = this.access();
    return { canEdit, canComment: canEdit || canComment };
  }

  /** Return every thread's anchor span (one scan per change of the text). */
  anchors() {
    if (!this._anchors) this._anchors = scanAnchors(this.quill.getContents().ops);
    return this._anchors;
  }

  /**
   * Load every thread (after each hello: a reconnect may have missed
   * frames). Frames arriving meanwhile are replayed over the answer.
   */
  async load() {
    const load = ++this._loads;
    this.book.beginLoad();
    const asked = performance.now();
    let answer;
    try {
      answer = await api(`${this.base}/threads`);
    } catch (err) {
      if (load === this._loads) this.book.abandonLoad();
      this.notices.show({
        kind: "comments",
        message: `Comments could not be loaded: ${err instanceof Error ? err.message : err}`,
        tone: "warning",
      });
      return;
    }
    if (load !== this._loads) return; // a later hello's load supersedes this one
    /** When the last load asked and was answered (performance.now(): the speed test reads it). */
    this.loadTiming = { asked, answered: performance.now() };
    this.notices.show({ kind: "comments", message: "" });
    const touched = this.book.finishLoad(Array.isArray(answer.threads) ? answer.threads : []);
    for (const id of touched) this._render(id);
    // Threads this load did not change but that have no card yet (the
    // first load after frames drew none of them).
    for (const id of this.book.threads.keys()) if (!this.cards.has(id)) this._render(id);
    this._afterChange();
    this._openWanted();
  }

  /**
   * Apply a ``review`` frame about threads (suggestion frames are C2's).
   * @param {any} payload
   */
  _frame(payload) {
    const change = changeOf(payload);
    if (!change) return;
    this._render(this.book.applyFrame(change));
    this._afterChange();
  }

  /**
   * Apply the answer to this person's request (a thread) unless a frame
   * about it came in between.
   * @param {any} answer
   * @param {number} version
   */
  _answered(answer, version) {
    const thread = asThread(answer);
    if (thread && this.book.applyAnswer(thread, version)) {
      this._render(thread.id);
      this._afterChange();
    }
  }

  /**
   * Show thread ``id`` as the book has it now: add, update or remove its card.
   * @param {string} id
   */
  _render(id) {
    const thread = this.book.get(id);
    const key = keyOf(id);
    if (!thread) {
      this.cards.delete(id);
      if (this.newComment.draft?.id !== id) this.margin.remove(key);
      return;
    }
    if (this.newComment.draft?.id === id) this.newComment.close({ keepCard: true });
    let card = this.cards.get(id);
    if (!card) {
      card = new ThreadCard({ me: this.me, rights: () => this.rights(), actions: this._actionsFor(id) });
      this.cards.set(id, card);
    }
    card.update(thread, { detached: !this.anchors().spans.has(id) });
    card.element.hidden = thread.resolved && !this.showResolved;
    this.margin.put(key, card.element, () => this.anchors().spans.get(id) ?? null);
    if (this.margin.active === key) card.openReply();
  }

  /** After threads changed: the highlight, the counts, the margin. */
  _afterChange() {
    this._paint();
    this._countResolved();
    this.margin.refresh();
  }

  /**
   * Whether thread ``id``'s card is showing (its text can activate it).
   * @param {string} id
   */
  _shown(id) {
    const thread = this.book.get(id);
    return Boolean(thread) && (!thread?.resolved || this.showResolved);
  }

  /**
   * The requests behind one thread card's buttons.
   * @param {string} id
   * @returns {import("./threads.js").Actions}
   */
  _actionsFor(id) {
    const url = `${this.base}/threads/${id}`;
    /**
     * Send a request about the thread; apply the answer.
     * @param {string} path
     * @param {string} method
     * @param {Object} [body]
     */
    const send = async (path, method, body) => {
      const version = this.book.version(id);
      const answer = await api(url + path, { method, body });
      if (answer && answer.deleted === id) {
        this.book.apply({ kind: "removed", id });
        this._render(id);
        this._afterChange();
      } else {
        this._answered(answer, version);
      }
    };
    return {
      reply: (body) => send("/messages", "POST", { body }),
      edit: (messageId, body) => send(`/messages/${messageId}`, "PATCH", { body }),
      removeMessage: (messageId) => send(`/messages/${messageId}`, "DELETE"),
      resolve: () => send("/resolve", "POST"),
      reopen: () => send("/reopen", "POST"),
      removeThread: () => send("", "DELETE"),
      people: (query) => this.people(query),
    };
  }

  /**
   * Ask who can be mentioned (the picker's search).
   * @param {string} query
   * @returns {Promise<import("./mentions.js").Person[]>}
   */
  async people(query) {
    const answer = await api(`${this.base}/people?q=${encodeURIComponent(query)}`);
    return Array.isArray(answer.people) ? answer.people : [];
  }

  /**
   * Text changed (typing, a remote op, undo): anchors move with it.
   * @param {import("quill-delta").default} delta
   */
  _changed(delta) {
    this._anchors = null;
    this.newComment.moved(delta);
    if (!this.cards.size || this._checkFrame) return;
    // Which threads lost (or regained) all their text: once per frame.
    this._checkFrame = requestAnimationFrame(() => {
      this._checkFrame = 0;
      const { spans } = this.anchors();
      for (const [id, card] of this.cards) {
        const thread = this.book.get(id);
        if (thread && card.detached === spans.has(id)) card.update(thread, { detached: !spans.has(id) });
      }
    });
  }

  /** Redraw the highlight of open threads' text and the active one. */
  _paint() {
    const open = [...this.book.threads.values()].filter((t) => !t.resolved).map((t) => t.id);
    const rule = open.length
      ? `${open.map(markSelector).join(",\n")} { background-color: var(--comment-mark); border-bottom-color: var(--comment-line); }`
      : "";
    if (rule !== this._painted) {
      this._painted = rule;
      this.sheet.replaceSync(rule);
    }
    this._paintActive();
  }

  /** Redraw the active thread's text (stronger), if it is showing. */
  _paintActive() {
    const active = idOf(this.margin.active);
    this.activeSheet.replaceSync(
      active && this._shown(active)
        ? `${markSelector(active)} { background-color: var(--comment-mark-active); border-bottom-color: var(--comment-line-active); }`
        : "",
    );
  }

  /**
   * Scroll thread ``id``'s text into view (its card follows it).
   * @param {string} id
   */
  _reveal(id) {
    const span = this.anchors().spans.get(id);
    if (!span) return;
    const bounds = this.quill.getBounds(span.index, 0);
    if (!bounds) return;
    const top = this.quill.container.getBoundingClientRect().top + bounds.top;
    if (top < 80 || top > window.innerHeight - 40) {
      window.scrollBy({ top: top - window.innerHeight / 3 });
    }
  }

  /** Open the ``#thread-<id>`` the page was opened with, once loaded. */
  _openWanted() {
    const id = this._wanted;
    if (!id || !this.book.loaded) return;
    this._wanted = null;
    const thread = this.book.get(id);
    if (!thread) {
      this.notices.show({ kind: "comments", message: "That comment thread no longer exists.", tone: "info" });
      return;
    }
    if (thread.resolved && !this.showResolved) this.setShowResolved(true);
    this.margin.activate(keyOf(id));
    this._reveal(id);
  }

  /** The access changed: redraw every card's buttons and the actions. */
  _rightsChanged() {
    for (const id of this.cards.keys()) this._render(id);
    this.commentButton.hidden = !this.rights().canComment;
    if (!this.rights().canComment) this.newComment.close();
  }

  /* The toolbar row: "Comment" and "Resolved (n)" ------------------------ */

  _makeActions() {
    const row = document.querySelector(".doc-toolbar-row");
    const bar = document.createElement("div");
    bar.className = "review-actions";
    const comment = document.createElement("button");
    comment.type = "button";
    comment.className = "review-action review-comment-button";
    comment.title = "Comment on the selected text (Ctrl+Alt+M)";
    comment.setAttribute("aria-label", "Add a comment (Ctrl+Alt+M)");
    comment.textContent = "Comment";
    // Keep the editor's selection: the button must not take the focus.
    comment.addEventListener("mousedown", (event) => event.preventDefault());
    comment.addEventListener("click", () => this.newComment.open());
    comment.hidden = !this.rights().canComment;
    const resolved = document.createElement("button");
    resolved.type = "button";
    resolved.className = "review-action review-resolved-button";
    resolved.setAttribute("aria-pressed", "false");
    resolved.title = "Show resolved comment threads";
    resolved.addEventListener("click", () => this.setShowResolved(!this.showResolved));
    bar.append(comment, resolved);
    if (row) row.insertBefore(bar, this.margin.toggle.parentElement === row ? this.margin.toggle : null);
    else this.margin.element.before(bar);
    return { comment, resolved };
  }

  _countResolved() {
    const n = this.book.resolvedCount();
    this.resolvedButton.textContent = `Resolved (${n})`;
    this.resolvedButton.hidden = n === 0 && !this.showResolved;
  }

  /**
   * Show or hide resolved threads' cards.
   * @param {boolean} show
   */
  setShowResolved(show) {
    this.showResolved = show;
    this.resolvedButton.setAttribute("aria-pressed", String(show));
    for (const [id, card] of this.cards) {
      const thread = this.book.get(id);
      card.element.hidden = Boolean(thread?.resolved) && !show;
    }
    const active = idOf(this.margin.active);
    if (active && !this._shown(active)) this.margin.activate(null);
    this._afterChange();
  }

  /**
   * Create thread ``id`` with its first message (the composer's POST, once
   * the mark is on the text) and show it; return whether it is known now.
   * @param {string} id
   * @param {string} quote
   * @param {string} body
   */
  async _post(id, quote, body) {
    const version = this.book.version(id);
    const answer = await api(`${this.base}/threads`, { method: "POST", body: { id, quote, body } });
    this._answered(answer, version);
    return Boolean(this.book.get(id));
  }
}

/**
 * Return the selector of the text anchored to thread ``id`` (ids are
 * checked ``[0-9a-z]``: nothing to escape).
 * @param {string} id
 */
function markSelector(id) {
  return `.ql-editor [data-comment~="${id}"]`;
}

/**
 * Return the thread id in a ``#thread-<id>`` fragment, or null.
 * @param {string} hash
 */
function threadInHash(hash) {
  const match = /^#thread-([0-9a-z]{10,24})$/.exec(hash || "");
  return match ? match[1] : null;
}

/**
 * Rewrite every relative time under ``root``.
 * @param {HTMLElement} root
 */
function refreshTimes(root) {
  for (const node of root.querySelectorAll("time[data-ago]")) {
    if (node instanceof HTMLTimeElement) node.textContent = timeAgo(node.dateTime);
  }
}
