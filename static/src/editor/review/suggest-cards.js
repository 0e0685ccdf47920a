/**
 * Suggestion cards in the review margin (C1's Margin, keys
 * ``suggestion:<mark>``): who, when, what; Accept and Reject for editors,
 * Withdraw for the author; "Accept all / Reject all" and per person in the
 * margin's tools. Deciding calls ``POST /api/docs/<id>/suggestions/decide``
 * (contract §5): the server makes the one change and broadcasts it; this
 * page sees it arrive like any op and the cards follow the content.
 *
 * The list is recomputed from the editor's content after text changes (at
 * most once per animation frame); {@link collectSuggestions} is pure.
 *
 * Undoing a decision: the server makes it (``POST suggestions/undo
 * {revision}``: the inverse of the decision's change, transformed to the
 * tip, so the suggestions come back with their authors' marks). The notice
 * after a decision offers "Undo", and Ctrl+Z (or the toolbar's undo) right
 * after it undoes the decision instead of the person's last edit, until
 * they edit again.
 *
 * @module editor/review/suggest-cards
 */
import { ApiError, api } from "../../api.js";
import { userColor } from "./suggest-colors.js";
import { parseFormatSuggestion, parseMark } from "./suggest-rewrite.js";

/**
 * One suggestion found in the content.
 * @typedef {Object} Suggestion
 * @property {string} id  its mark
 * @property {"insert"|"delete"|"format"} kind
 * @property {number} author
 * @property {number} atMs
 * @property {number} index  where it starts
 * @property {number} length  how far it reaches (to its last character)
 * @property {string} text  what it covers (≤ 200 characters; embeds as "▣")
 * @property {Record<string, unknown>|null} formats  proposed formats (format)
 */

const KINDS = /** @type {const} */ ([
  ["suggest-insert", "insert"],
  ["suggest-delete", "delete"],
  ["suggest-format", "format"],
]);

/**
 * Return the suggestions in ``ops`` (a document), in document order.
 * @param {Array<{insert: any, attributes?: Record<string, any>}>} ops
 * @returns {Suggestion[]}
 */
export function collectSuggestions(ops) {
  /** @type {Map<string, Suggestion>} */
  const found = new Map();
  let index = 0;
  for (const op of ops) {
    const length = typeof op.insert === "string" ? op.insert.length : 1;
    const attributes = op.attributes || {};
    for (const [name, kind] of KINDS) {
      const value = attributes[name];
      const mark = parseMark(value);
      if (!mark) continue;
      let entry = found.get(mark.raw);
      if (!entry) {
        entry = {
          id: mark.raw,
          kind,
          author: mark.author,
          atMs: mark.atMs,
          index,
          length: 0,
          text: "",
          formats: kind === "format" ? (parseFormatSuggestion(value)?.formats ?? {}) : null,
        };
        found.set(mark.raw, entry);
      }
      entry.length = index + length - entry.index;
      if (entry.text.length < 200) {
        const piece = typeof op.insert === "string" ? op.insert : "▣";
        entry.text = (entry.text + piece).slice(0, 200);
      }
    }
    index += length;
  }
  return [...found.values()];
}

/**
 * Return what a suggestion does, in words: inserted "…", deleted "…",
 * format: bold, heading 2.
 * @param {Suggestion} suggestion
 */
export function describeSuggestion(suggestion) {
  const quote = (text) => {
    const shown = text.replace(/\n/g, "¶").trim() || "¶";
    return `“${shown.length > 80 ? `${shown.slice(0, 80)}…` : shown}”`;
  };
  if (suggestion.kind === "insert") return `Add ${quote(suggestion.text)}`;
  if (suggestion.kind === "delete") return `Delete ${quote(suggestion.text)}`;
  const parts = Object.entries(suggestion.formats || {}).map(([name, value]) => {
    if (value === null || value === false) return `not ${name}`;
    if (value === true) return name;
    if (name === "header") return `heading ${value}`;
    return `${name} ${value}`;
  });
  return `Format ${quote(suggestion.text)}: ${parts.join(", ") || "plain"}`;
}

/** Return "5 min ago"-style text for ``atMs``. */
function ago(atMs, now = Date.now()) {
  const seconds = Math.max(0, Math.round((now - atMs) / 1000));
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(atMs).toLocaleDateString();
}

export class SuggestionCards {
  /**
   * @param {Object} options
   * @param {any} options.quill
   * @param {any} options.margin  C1's Margin
   * @param {string} options.docId
   * @param {{id: number, name: string}} options.me
   * @param {() => {canEdit: boolean, canComment: boolean}} options.access
   * @param {(id: number) => string} options.nameOf  a person's name
   * @param {(authors: Iterable<number>) => void} options.onAuthors  told the authors shown
   * @param {(message: string, tone?: string, action?: {label: string, run: () => void}|null) => void} options.tell
   */
  constructor({ quill, margin, docId, me, access, nameOf, onAuthors, tell }) {
    /** @type {number|null} the revision of the person's last decision, while undoable */
    this.lastDecision = null;
    this.quill = quill;
    this.margin = margin;
    this.docId = docId;
    this.me = me;
    this.access = access;
    this.nameOf = nameOf;
    this.onAuthors = onAuthors;
    this.tell = tell;
    /** @type {Map<string, Suggestion>} */
    this.shown = new Map();
    /** What each card was drawn from: a card is rebuilt only when it changes. */
    /** @type {Map<string, string>} */
    this._drawn = new Map();
    this._toolsDrawn = "";
    this._scheduled = false;
    this.tools = document.createElement("div");
    this.tools.className = "suggestion-tools";
    if (margin?.tools) margin.tools.append(this.tools);
    quill.on("text-change", (_delta, _old, source) => {
      // An edit of the person's own: Ctrl+Z is theirs again.
      if (source === "user") this.lastDecision = null;
      this.schedule();
    });
    /** The active card's text is highlighted through this sheet (see AuthorColors on CSP). */
    this._activeSheet = new CSSStyleSheet();
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, this._activeSheet];
    margin?.on?.("activate", (/** @type {string|null} */ key, /** @type {{source: string}} */ { source }) => {
      const id = key?.startsWith("suggestion:") ? key.slice("suggestion:".length) : null;
      this._highlight(id);
      if (id && source === "card") this._reveal(id);
    });
    margin?.findWith?.((index) => {
      for (const s of this.shown.values()) {
        if (index >= s.index && index <= s.index + s.length) return `suggestion:${s.id}`;
      }
      return null;
    });
    this.schedule();
  }

  /** Recompute the cards on the next frame. */
  schedule() {
    if (this._scheduled) return;
    this._scheduled = true;
    const run = () => {
      this._scheduled = false;
      this.refresh();
    };
    if (typeof requestAnimationFrame === "function") requestAnimationFrame(run);
    else setTimeout(run, 0);
  }

  /** Draw every card again (the person's rights changed). */
  redraw() {
    this._drawn.clear();
    this._toolsDrawn = "";
    this.schedule();
  }

  /**
   * Bring the cards up to the editor's content. Runs at most once per
   * frame while typing: only cards whose suggestion changed are rebuilt;
   * the others keep their element and read their moved anchor from
   * ``shown`` (so 500 suggestions cost a scan of the content, not 500 cards).
   */
  refresh() {
    const list = collectSuggestions(this.quill.getContents().ops);
    const { canEdit } = this.access();
    const seen = new Set();
    for (const suggestion of list) {
      seen.add(suggestion.id);
      this.shown.set(suggestion.id, suggestion);
      const { kind, author, atMs, text, formats } = suggestion;
      const signature = JSON.stringify([kind, author, atMs, text, formats, canEdit, this.nameOf(author)]);
      if (this._drawn.get(suggestion.id) === signature) continue;
      this._drawn.set(suggestion.id, signature);
      this.margin?.put(`suggestion:${suggestion.id}`, this._card(suggestion), () => {
        const current = this.shown.get(suggestion.id);
        return current ? { index: current.index, length: current.length } : null;
      });
    }
    for (const id of [...this.shown.keys()]) {
      if (seen.has(id)) continue;
      this.shown.delete(id);
      this._drawn.delete(id);
      this.margin?.remove(`suggestion:${id}`);
    }
    this.onAuthors(new Set(list.map((s) => s.author)));
    this._renderTools(list);
  }

  /**
   * Highlight the text of suggestion ``id`` (null: none).
   * @param {string|null} id
   */
  _highlight(id) {
    const sheet = this._activeSheet;
    while (sheet.cssRules.length) sheet.deleteRule(0);
    if (!id || !/^[0-9a-z:]+$/.test(id)) return;
    const selectors = [];
    for (const name of ["suggest-insert", "suggest-delete"]) {
      selectors.push(`[data-${name}="${id}"]`, `[data-line-${name}="${id}"]`);
    }
    selectors.push(`[data-suggest-format^="${id}|"]`, `[data-line-suggest-format^="${id}|"]`);
    sheet.insertRule(
      `.doc-content .ql-editor :is(${selectors.join(", ")}) { background-color: color-mix(in srgb, var(--suggest-color) 18%, transparent); }`,
    );
  }

  /**
   * Scroll the text of suggestion ``id`` into view when it is off screen.
   * @param {string} id
   */
  _reveal(id) {
    const suggestion = this.shown.get(id);
    const bounds = suggestion ? this.quill.getBounds(suggestion.index, 0) : null;
    if (!bounds) return;
    const top = this.quill.container.getBoundingClientRect().top + bounds.top;
    if (top < 80 || top > window.innerHeight - 40) window.scrollBy({ top: top - window.innerHeight / 3 });
  }

  /** @param {Suggestion} suggestion */
  _card(suggestion) {
    const card = document.createElement("article");
    card.className = "suggestion-card";
    card.dataset.suggestion = suggestion.id;
    card.dataset.kind = suggestion.kind;
    card.style.setProperty("--suggest-color", userColor(suggestion.author));
    const head = document.createElement("div");
    head.className = "suggestion-head";
    const author = document.createElement("span");
    author.className = "suggestion-author";
    author.textContent = suggestion.author === this.me.id ? `${this.me.name} (you)` : this.nameOf(suggestion.author);
    const time = document.createElement("time");
    time.className = "suggestion-time";
    time.dateTime = new Date(suggestion.atMs).toISOString();
    time.textContent = ago(suggestion.atMs);
    head.append(author, time);
    const what = document.createElement("p");
    what.className = "suggestion-what";
    what.textContent = describeSuggestion(suggestion);
    const actions = document.createElement("div");
    actions.className = "suggestion-actions";
    const { canEdit } = this.access();
    const button = (label, accept, title) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.title = title;
      b.dataset.decide = accept ? "accept" : "reject";
      // A press must not focus the button: focusing a card activates it and
      // the margin moves the active card to its anchor before the release,
      // which then misses the button. The click activates it instead.
      b.addEventListener("mousedown", (event) => event.preventDefault());
      b.addEventListener("click", (event) => {
        event.stopPropagation();
        for (const other of actions.querySelectorAll("button")) other.disabled = true;
        void this.decide({ accept, ids: [suggestion.id] }).finally(() => {
          for (const other of actions.querySelectorAll("button")) other.disabled = false;
        });
      });
      return b;
    };
    if (canEdit) {
      actions.append(button("Accept", true, "Accept this suggestion"), button("Reject", false, "Reject this suggestion"));
    } else if (suggestion.author === this.me.id) {
      actions.append(button("Withdraw", false, "Withdraw your suggestion"));
    }
    card.append(head, what, actions);
    return card;
  }

  /** @param {Suggestion[]} list */
  _renderTools(list) {
    const { canEdit } = this.access();
    const authors = [...new Set(list.map((s) => s.author))];
    const drawn = JSON.stringify([canEdit, authors, authors.map((a) => this.nameOf(a))]);
    if (drawn === this._toolsDrawn) return;
    this._toolsDrawn = drawn;
    if (!canEdit || !list.length) {
      this.tools.replaceChildren();
      return;
    }
    const all = (label, accept) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "button button-quiet button-small";
      b.textContent = label;
      b.dataset.decideAll = accept ? "accept" : "reject";
      b.addEventListener("click", () => void this.decide({ accept, all: true }));
      return b;
    };
    const select = document.createElement("select");
    select.setAttribute("aria-label", "Decide all suggestions of one person");
    select.append(new Option("By person…", ""));
    for (const author of authors) {
      const name = author === this.me.id ? "you" : this.nameOf(author);
      select.append(new Option(`Accept all by ${name}`, `accept:${author}`));
      select.append(new Option(`Reject all by ${name}`, `reject:${author}`));
    }
    select.addEventListener("change", () => {
      const [verb, author] = select.value.split(":");
      select.value = "";
      if (author) void this.decide({ accept: verb === "accept", author: Number(author) });
    });
    this.tools.replaceChildren(all("Accept all", true), all("Reject all", false), select);
  }

  /**
   * Ask the server to decide: ``{accept, ids}`` | ``{accept, all: true}`` |
   * ``{accept, author}``. The change arrives over the socket.
   * @param {{accept: boolean, ids?: string[], all?: boolean, author?: number}} body
   * @returns {Promise<any>}
   */
  async decide(body) {
    const result = await this._post("decide", body);
    if (!result) return null;
    const n = result.decided || 0;
    const verb = body.accept ? "Accepted" : "Rejected";
    if (!n || typeof result.revision !== "number") {
      this.tell("Nothing left to decide.", "info");
      return result;
    }
    this.lastDecision = result.revision;
    this.tell(`${verb} ${n} suggestion${n === 1 ? "" : "s"}.`, "info", {
      label: "Undo",
      run: () => void this.undoDecision(),
    });
    return result;
  }

  /**
   * Undo the person's last decision, if it is still theirs to undo (no
   * edit of theirs since); return whether there was one. The server makes
   * the change; it arrives over the socket.
   * @returns {boolean}
   */
  undoDecision() {
    const revision = this.lastDecision;
    if (revision === null) return false;
    this.lastDecision = null;
    void this._post("undo", { revision }).then((result) => {
      if (result) this.tell("Decision undone: the suggestions are back.", "info");
    });
    return true;
  }

  /**
   * Let Ctrl+Z (Cmd+Z) right after a decision undo it, wherever the focus
   * is except another text field (a reply box, the title).
   * @param {Document} doc
   */
  installUndoKey(doc = document) {
    doc.addEventListener(
      "keydown",
      (event) => {
        if (this.lastDecision === null || event.shiftKey || event.altKey) return;
        if (!(event.ctrlKey || event.metaKey) || event.key.toLowerCase() !== "z") return;
        const target = event.target instanceof HTMLElement ? event.target : null;
        const typing = target?.closest("input, textarea, [contenteditable=true]");
        if (typing && !this.quill.root.contains(target)) return;
        event.preventDefault();
        event.stopPropagation();
        this.undoDecision();
      },
      true, // before Quill's keyboard, which would undo the person's last edit
    );
  }

  /**
   * POST ``suggestions/<action>``; resolve with the answer, or null after
   * telling the person why not.
   * @param {"decide"|"undo"} action
   * @param {Object} body
   */
  async _post(action, body) {
    try {
      return await api(`/api/docs/${encodeURIComponent(this.docId)}/suggestions/${action}`, {
        method: "POST",
        body,
      });
    } catch (err) {
      this.tell(err instanceof ApiError ? err.message : "Could not reach the server.", "error");
      return null;
    }
  }
}
