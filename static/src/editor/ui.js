/**
 * The page around the editor: connection indicator, who is here, notices to
 * the person, and the in-place title rename.
 *
 * @module editor/ui
 */

const STATUS_LABELS = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  offline: "Offline",
  stopped: "Offline",
};

/**
 * Return "1 unsynced change" / "n unsynced changes".
 * @param {number} n
 */
export function unsyncedLabel(n) {
  return `${n} unsynced change${n === 1 ? "" : "s"}`;
}

/**
 * Show the connection state and the count of unsynced changes.
 *
 * @param {HTMLElement|null} element  ``#connection-status``
 * @returns {(state: {status: string, pending: number, retrying: boolean}) => void}
 */
export function statusIndicator(element) {
  return ({ status, pending, retrying }) => {
    if (!element) return;
    const state = status === "stopped" ? "offline" : status;
    let text = STATUS_LABELS[status] || status;
    if (pending > 0) text += ` · ${unsyncedLabel(pending)}`;
    else if (status === "connected") text += " · All changes saved";
    element.textContent = text;
    element.dataset.state = state;
    element.dataset.pending = String(pending);
    element.title = retrying ? "The server is busy; your changes will be sent again shortly." : text;
  };
}

/**
 * Return the initials shown in a person's dot.
 * @param {string} name
 */
function initial(name) {
  const trimmed = (name || "?").trim();
  return (trimmed[0] || "?").toUpperCase();
}

/**
 * Render who is here into ``#people``: the person first, then everyone else
 * once per user (several tabs count once), each with their colour.
 *
 * @param {HTMLElement|null} element
 * @param {{id: number, name: string, color: string}|null} me
 * @param {Array<{session: string, user: {id: number, name: string, color: string}}>} peers
 */
export function renderPeople(element, me, peers) {
  if (!element) return;
  const people = [];
  const seen = new Set();
  if (me) {
    people.push({ ...me, you: true });
    seen.add(me.id);
  }
  for (const peer of peers) {
    const user = peer.user;
    if (!user || seen.has(user.id)) continue;
    seen.add(user.id);
    people.push({ ...user, you: false });
  }
  const items = people.map((person) => {
    const li = document.createElement("li");
    li.className = "cd-person";
    li.dataset.userId = String(person.id);
    const label = person.you ? `${person.name} (you)` : person.name;
    li.title = label;
    const dot = document.createElement("span");
    dot.className = "avatar cd-person-dot";
    dot.style.background = person.color;
    dot.textContent = initial(person.name);
    dot.setAttribute("aria-hidden", "true");
    const name = document.createElement("span");
    name.className = "cd-person-name";
    name.textContent = label;
    li.append(dot, name);
    return li;
  });
  element.replaceChildren(...items);
  element.dataset.count = String(people.length);
}

/**
 * A small area for messages to the person, above the toolbar.
 */
export class Notices {
  /** @param {HTMLElement} app  ``#editor-app`` */
  constructor(app) {
    this.element = document.createElement("div");
    this.element.className = "cd-notices";
    this.element.setAttribute("aria-live", "polite");
    const toolbar = app.querySelector("#toolbar");
    if (toolbar) toolbar.before(this.element);
    else app.prepend(this.element);
  }

  /**
   * Show a notice; a notice of the same kind replaces the previous one.
   *
   * @param {Object} notice
   * @param {string} notice.kind
   * @param {string} notice.message
   * @param {string} [notice.text]  text the person may want to copy back
   * @param {{href: string, label: string}} [notice.link]
   * @param {"info"|"warning"|"error"} [notice.tone]
   * @returns {HTMLElement}
   */
  show({ kind, message, text = "", link = null, tone = "warning" }) {
    this.element.querySelector(`[data-kind="${kind}"]`)?.remove();
    const box = document.createElement("div");
    box.className = `cd-notice cd-notice-${tone}`;
    box.dataset.kind = kind;
    box.setAttribute("role", tone === "error" ? "alert" : "status");
    const body = document.createElement("div");
    body.className = "cd-notice-body";
    const p = document.createElement("p");
    p.textContent = message;
    body.append(p);
    if (link) {
      const a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.label;
      a.className = "cd-notice-link";
      p.append(" ", a);
    }
    if (text && text.trim()) {
      const label = document.createElement("p");
      label.className = "cd-notice-label";
      label.textContent = "Text that was not saved:";
      const area = document.createElement("textarea");
      area.className = "cd-unsaved";
      area.readOnly = true;
      area.value = text;
      area.rows = Math.min(6, Math.max(2, text.split("\n").length));
      const copy = document.createElement("button");
      copy.type = "button";
      copy.className = "cd-notice-button";
      copy.textContent = "Copy text";
      copy.addEventListener("click", async () => {
        area.select();
        try {
          await navigator.clipboard.writeText(text);
          copy.textContent = "Copied";
        } catch {
          document.execCommand?.("copy");
        }
      });
      body.append(label, area, copy);
    }
    const close = document.createElement("button");
    close.type = "button";
    close.className = "cd-notice-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", () => box.remove());
    box.append(body, close);
    this.element.append(box);
    return box;
  }

  /** @param {string} kind */
  dismiss(kind) {
    this.element.querySelector(`[data-kind="${kind}"]`)?.remove();
  }
}

/**
 * Return the value of a cookie (the CSRF token).
 * @param {string} name
 */
export function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

/**
 * The document title: renamed in place by people who may edit, updated for
 * everyone when the server announces a rename (``title`` frame).
 */
export class TitleController {
  /**
   * @param {Object} options
   * @param {HTMLElement|null} options.element  ``#doc-title`` (an input for
   *   editors, a heading for viewers)
   * @param {HTMLElement|null} options.status   ``#title-status``
   * @param {string} options.renameUrl
   * @param {typeof fetch} [options.fetchImpl]
   */
  constructor({ element, status, renameUrl, fetchImpl = (...a) => fetch(...a) }) {
    this.element = element;
    this.status = status;
    this.renameUrl = renameUrl;
    this.fetchImpl = fetchImpl;
    this.saved = element ? this._read() : "";
    this.saving = false;
    this._statusTimer = null;
  }

  /** Wire the input: Enter or leaving the field saves, Escape reverts. */
  attach() {
    const el = this.element;
    if (!el || !(el instanceof HTMLInputElement) || el.dataset.renameBound) return;
    el.dataset.renameBound = "editor";
    el.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        el.blur();
      } else if (event.key === "Escape") {
        el.value = this.saved;
        el.removeAttribute("aria-invalid");
        el.blur();
      }
    });
    el.addEventListener("blur", () => this.save());
  }

  _read() {
    const el = this.element;
    return el instanceof HTMLInputElement ? el.value : el.textContent.trim();
  }

  /** @param {string} title */
  _write(title) {
    const el = this.element;
    if (!el) return;
    if (el instanceof HTMLInputElement) el.value = title;
    else el.textContent = title;
  }

  /**
   * Show a short status next to the title.
   * @param {string} text
   * @param {"ok"|"error"|""} kind
   */
  _status(text, kind) {
    if (!this.status) return;
    this.status.textContent = text;
    this.status.dataset.kind = kind;
    clearTimeout(this._statusTimer);
    if (kind === "ok") {
      this._statusTimer = setTimeout(() => {
        this.status.textContent = "";
        this.status.dataset.kind = "";
      }, 2000);
    }
  }

  /** POST the new title if it changed. */
  async save() {
    const el = this.element;
    if (!el || this.saving) return;
    const title = this._read().trim();
    if (title === this.saved) {
      this._write(this.saved);
      return;
    }
    if (!title) {
      el.setAttribute("aria-invalid", "true");
      this._status("A title cannot be empty.", "error");
      this._write(this.saved);
      return;
    }
    this.saving = true;
    this._status("Saving…", "");
    try {
      const response = await this.fetchImpl(this.renameUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": cookie("csrftoken"),
        },
        body: JSON.stringify({ title }),
      });
      let data = {};
      try {
        data = await response.json();
      } catch {
        data = {};
      }
      if (!response.ok) throw new Error(data.error || data.message || `HTTP ${response.status}`);
      el.removeAttribute("aria-invalid");
      this.apply(typeof data.title === "string" ? data.title : title, { force: true });
      this._status("Saved", "ok");
    } catch (err) {
      el.setAttribute("aria-invalid", "true");
      this._status(`Not renamed: ${err.message}`, "error");
      this._write(this.saved);
    } finally {
      this.saving = false;
    }
  }

  /**
   * Show a title set elsewhere (the ``title`` frame), unless the person is
   * typing a new one right now.
   *
   * @param {string} title
   * @param {{force?: boolean}} [options]
   */
  apply(title, { force = false } = {}) {
    const old = this.saved;
    this.saved = title;
    const el = this.element;
    if (el && (force || document.activeElement !== el)) this._write(title);
    if (old && document.title.includes(old)) document.title = document.title.replace(old, title);
    else if (!old) document.title = title;
  }
}
