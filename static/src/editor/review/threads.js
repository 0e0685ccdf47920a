/**
 * The card of one comment thread in the margin, and the composer of a new
 * one. DOM only: what a button does is the ``actions`` object's (comments.js
 * calls the API); the card shows it busy, and an error inline with the
 * person's text kept.
 *
 * A card is updated in place (``update(thread)``): messages are kept by id
 * and only rebuilt when they changed, and the reply box and any message
 * being edited are never rebuilt, so live changes from others do not take
 * the focus or the half-typed text away.
 *
 * What a person sees depends on their rights (``rights()``, read on every
 * update): viewers read; commenters and editors reply, resolve and re-open;
 * the author of a message edits and deletes it; the author of the thread
 * and editors delete the thread.
 *
 * @module editor/review/threads
 */
import { button, composer, el } from "./compose-box.js";
import { bodyParts, timeAgo } from "./text.js";

/**
 * @typedef {import("./thread-book.js").Thread} Thread
 * @typedef {import("./thread-book.js").Message} Message
 * @typedef {import("./mentions.js").Person} Person
 * @typedef {{canComment: boolean, canEdit: boolean}} Rights
 * @typedef {{
 *   reply: (body: string) => Promise<void>,
 *   edit: (messageId: number, body: string) => Promise<void>,
 *   removeMessage: (messageId: number) => Promise<void>,
 *   resolve: () => Promise<void>,
 *   reopen: () => Promise<void>,
 *   removeThread: () => Promise<void>,
 *   people: (query: string) => Promise<Person[]>,
 * }} Actions
 */

const SVG = "http://www.w3.org/2000/svg";

/** One formatter for every card (making one per call is slow: 500 threads). */
const FULL_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** Icon paths (24 x 24, Material-style) of the thread's tool buttons. */
const ICONS = {
  resolve: "M9 16.17 4.83 12l-1.42 1.41L9 19 21 7l-1.41-1.41z",
  reopen: "M12 5V1L7 6l5 5V7a6 6 0 1 1-6 6H4a8 8 0 1 0 8-8z",
  remove: "M6 19a2 2 0 0 0 2 2h8a2 2 0 0 0 2-2V7H6v12zM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4z",
};

/**
 * Return an icon button labelled for people and screen readers.
 * @param {keyof typeof ICONS} icon
 * @param {string} label
 * @param {string} className
 * @param {() => void} onClick
 */
function iconButton(icon, label, className, onClick) {
  const node = button("", `thread-icon ${className}`, onClick);
  node.title = label;
  node.setAttribute("aria-label", label);
  let svg = icons.get(icon);
  if (!svg) {
    svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", ICONS[icon]);
    path.setAttribute("fill", "currentColor");
    svg.append(path);
    icons.set(icon, svg);
  }
  node.append(svg.cloneNode(true));
  return node;
}

/** @type {Map<string, SVGElement>} each icon made once, then cloned */
const icons = new Map();

/**
 * Return a ``<time>`` showing how long ago ``iso`` was (comments.js keeps
 * every ``time[data-ago]`` current).
 * @param {string|null} iso
 */
function ago(iso) {
  const node = el("time", "thread-time", timeAgo(iso));
  if (iso) {
    node.dateTime = iso;
    node.dataset.ago = "";
    node.title = FULL_TIME.format(new Date(iso));
  }
  return node;
}

/**
 * Fill ``node`` with a body, mentions drawn as such (text only: a body is
 * never HTML).
 * @param {HTMLElement} node
 * @param {string} body
 */
function drawBody(node, body) {
  node.replaceChildren(
    ...bodyParts(body).map((part) => (part.mention ? el("span", "thread-mention", part.text) : part.text)),
  );
}

/** A thread's card: quote when detached, messages, actions, reply box. */
export class ThreadCard {
  /**
   * @param {Object} options
   * @param {{id: number, name: string}} options.me
   * @param {() => Rights} options.rights
   * @param {Actions} options.actions
   */
  constructor({ me, rights, actions }) {
    this.me = me;
    this.rights = rights;
    this.actions = actions;
    /** @type {Thread|null} */
    this.thread = null;
    this.detached = false;
    /** @type {Map<number, {node: HTMLElement, sig: string, editing: boolean}>} */
    this._messages = new Map();

    this.element = el("article", "thread-card");
    this.element.setAttribute("aria-label", "Comment thread");
    this.head = el("div", "thread-head");
    this.quote = el("blockquote", "thread-quote");
    this.note = el("p", "thread-detached-note", "Original text deleted");
    this.list = el("ol", "thread-messages");
    this.error = el("p", "thread-error");
    this.error.setAttribute("role", "alert");
    this.error.hidden = true;
    /** @type {ReturnType<typeof composer>|null} made when first needed */
    this.reply = null;
    this.element.append(this.head, this.note, this.quote, this.list, this.error);
  }

  /**
   * Whether this person may reply now (commenters and editors, open threads).
   */
  _mayReply() {
    return Boolean(this.thread && !this.thread.resolved && this.rights().canComment);
  }

  /**
   * Show the reply box (made on first use: a document may hold hundreds of
   * threads, and a box per card would slow its opening). Return it, or
   * null when this person may not reply.
   */
  openReply() {
    if (!this._mayReply()) return null;
    if (!this.reply) {
      this.reply = composer({
        placeholder: "Reply… (@ to mention)",
        submitLabel: "Reply",
        people: this.actions.people,
        onSubmit: (body) => this.actions.reply(body),
        onCancel: () => {},
      });
      this.element.append(this.reply.form);
    }
    this.reply.form.hidden = false;
    return this.reply;
  }

  /**
   * Show ``thread`` (and whether no text carries it any more).
   * @param {Thread} thread
   * @param {{detached: boolean}} state
   */
  update(thread, { detached }) {
    this.thread = thread;
    this.detached = detached;
    const rights = this.rights();
    this.element.id = `thread-${thread.id}`;
    this.element.dataset.threadId = thread.id;
    this.element.classList.toggle("is-resolved", thread.resolved);
    const quote = thread.quote.length > 60 ? `${thread.quote.slice(0, 60)}…` : thread.quote;
    this.element.setAttribute(
      "aria-label",
      `Comment thread by ${thread.created_by?.name || "a deleted account"}` +
        (quote ? ` on “${quote}”` : "") +
        (thread.resolved ? ", resolved" : "") +
        (detached ? ", original text deleted" : ""),
    );
    this.note.hidden = !detached;
    this.quote.hidden = !detached || !thread.quote;
    this.quote.textContent = thread.quote;
    this._drawHead(thread, rights);
    this._drawMessages(thread, rights);
    if (this.reply) this.reply.form.hidden = !this._mayReply();
  }

  /**
   * Show an error inline (an action failed), or clear it with "".
   * @param {string} message
   */
  showError(message) {
    this.error.textContent = message;
    this.error.hidden = !message;
  }

  /**
   * Run ``action`` with the card's buttons disabled; show its error.
   * @param {() => Promise<void>} action
   */
  async _run(action) {
    this.showError("");
    this.element.dataset.busy = "true";
    try {
      await action();
    } catch (err) {
      this.showError(err instanceof Error ? err.message : String(err));
    } finally {
      delete this.element.dataset.busy;
    }
  }

  /**
   * @param {Thread} thread
   * @param {Rights} rights
   */
  _drawHead(thread, rights) {
    const parts = [];
    if (thread.resolved) {
      const who = thread.resolved_by?.name || "someone";
      const status = el("p", "thread-status", `Resolved by ${who} `);
      status.append(ago(thread.resolved_at));
      parts.push(status);
    }
    const tools = el("div", "thread-tools");
    if (rights.canComment) {
      tools.append(
        thread.resolved
          ? iconButton("reopen", "Re-open", "thread-reopen", () => this._run(this.actions.reopen))
          : iconButton("resolve", "Resolve", "thread-resolve", () => this._run(this.actions.resolve)),
      );
    }
    const mine = thread.created_by !== null && thread.created_by.id === this.me.id;
    if (rights.canComment && (mine || rights.canEdit)) {
      tools.append(
        this._confirming(
          () => iconButton("remove", "Delete thread", "thread-delete", () => {}),
          "Delete this thread for everyone?",
          this.actions.removeThread,
        ),
      );
    }
    parts.push(tools);
    this.head.replaceChildren(...parts);
  }

  /**
   * A button that asks again inline before ``action`` (no blocking dialog).
   * @param {(() => HTMLButtonElement)|string} make  the button, or its label
   * @param {string} question
   * @param {() => Promise<void>} action
   */
  _confirming(make, question, action) {
    const wrap = el("span", "thread-confirm");
    const start = typeof make === "string" ? button(make, "linklike thread-message-delete", () => {}) : make();
    start.addEventListener("click", () => {
      const ask = el("span", "thread-confirm-ask", question);
      const yes = button("Delete", "button button-danger button-small thread-confirm-yes", () => this._run(action));
      const no = button("Keep", "button button-quiet button-small thread-confirm-no", () => wrap.replaceChildren(start));
      wrap.replaceChildren(ask, yes, no);
      no.focus();
    });
    wrap.append(start);
    return wrap;
  }

  /**
   * @param {Thread} thread
   * @param {Rights} rights
   */
  _drawMessages(thread, rights) {
    const seen = new Set();
    thread.messages.forEach((message, i) => {
      seen.add(message.id);
      const sig = JSON.stringify([message, rights, i === 0]);
      let entry = this._messages.get(message.id);
      if (!entry) {
        entry = { node: el("li", "thread-message"), sig: "", editing: false };
        entry.node.id = `message-${message.id}`;
        this._messages.set(message.id, entry);
      }
      if (entry.sig !== sig && !entry.editing) {
        entry.sig = sig;
        this._drawMessage(entry, message, i === 0, rights);
      }
      if (this.list.children[i] !== entry.node) this.list.insertBefore(entry.node, this.list.children[i] || null);
    });
    for (const [id, entry] of this._messages) {
      if (!seen.has(id)) {
        entry.node.remove();
        this._messages.delete(id);
      }
    }
  }

  /**
   * @param {{node: HTMLElement, sig: string, editing: boolean}} entry
   * @param {Message} message
   * @param {boolean} first
   * @param {Rights} rights
   */
  _drawMessage(entry, message, first, rights) {
    const head = el("div", "thread-message-head");
    head.append(el("span", "thread-author", message.author?.name || "Deleted account"), " ", ago(message.created_at));
    if (message.edited_at && !message.removed) head.append(" ", el("span", "thread-edited", "(edited)"));
    const body = el("p", "thread-body");
    if (message.removed) {
      body.classList.add("is-removed");
      body.textContent = "Message removed";
    } else {
      drawBody(body, message.body);
    }
    const own = message.author !== null && message.author.id === this.me.id;
    const parts = [head, body];
    if (own && !message.removed && rights.canComment) {
      const tools = el("div", "thread-message-tools");
      tools.append(
        button("Edit", "linklike thread-edit", () => this._edit(entry, message)),
        this._confirming(
          "Delete",
          first ? "Deleting the first message deletes the thread." : "Delete this message?",
          () => this.actions.removeMessage(message.id),
        ),
      );
      parts.push(tools);
    }
    entry.node.replaceChildren(...parts);
  }

  /**
   * Swap a message's body for an edit box until saved or cancelled.
   * @param {{node: HTMLElement, sig: string, editing: boolean}} entry
   * @param {Message} message
   */
  _edit(entry, message) {
    entry.editing = true;
    const done = () => {
      entry.editing = false;
      entry.sig = "";
      if (this.thread) this.update(this.thread, { detached: this.detached });
    };
    const box = composer({
      placeholder: "Edit your message",
      submitLabel: "Save",
      value: message.body,
      people: this.actions.people,
      buttonsAlways: true,
      onSubmit: async (body) => {
        await this.actions.edit(message.id, body);
        done();
      },
      onCancel: done,
    });
    const body = entry.node.querySelector(".thread-body");
    const tools = entry.node.querySelector(".thread-message-tools");
    tools?.remove();
    if (body) body.replaceWith(box.form);
    box.area.focus();
    box.refresh();
  }
}

/**
 * The card of a thread being written: the quoted text and a first message.
 * @param {Object} options
 * @param {string} options.quote
 * @param {(query: string) => Promise<Person[]>} options.people
 * @param {(body: string) => Promise<void>} options.onSubmit
 * @param {() => void} options.onCancel
 */
export function draftCard({ quote, people, onSubmit, onCancel }) {
  const element = el("article", "thread-card thread-draft");
  element.setAttribute("aria-label", "New comment");
  const shown = el("blockquote", "thread-quote", quote);
  shown.hidden = !quote;
  const box = composer({
    placeholder: "Comment… (@ to mention)",
    submitLabel: "Comment",
    people,
    buttonsAlways: true,
    onSubmit,
    onCancel,
  });
  element.append(shown, box.form);
  return { element, area: box.area };
}
