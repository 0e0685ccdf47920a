/**
 * The page around the editor: connection indicator, notices to the person,
 * and the title (who is here: people-list.js). Renaming in place is app.js's (it POSTs the
 * new title); this module passes the server's ``title`` frames to it as a
 * ``collabdocs:title`` event.
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
 * Kinds of notice that report a passing state, not trouble: always shown
 * in the calm "info" tone, whatever tone the caller asked for.
 */
const CALM_KINDS = new Set(["rate_limited"]);

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
   * Show a notice; a notice of the same kind replaces the previous one, and
   * one with an empty message withdraws it (the connection's way of saying
   * a passing state such as ``rate_limited`` is over).
   *
   * @param {Object} notice
   * @param {string} notice.kind
   * @param {string} notice.message
   * @param {string} [notice.text]  text the person may want to copy back
   * @param {{href: string, label: string}|null} [notice.link]
   * @param {"info"|"warning"|"error"} [notice.tone]
   * @param {{label: string, run: () => void}|null} [notice.action]  a button
   *   (e.g. "Undo"); the notice goes once it is pressed
   * @returns {HTMLElement|null}  the notice, or null when withdrawn
   */
  show({ kind, message, text = "", link = null, tone = "warning", action = null }) {
    this.element.querySelector(`[data-kind="${kind}"]`)?.remove();
    if (!message) return null;
    if (CALM_KINDS.has(kind)) tone = "info";
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
    if (action) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "cd-notice-button cd-notice-action";
      button.textContent = action.label;
      button.addEventListener("click", () => {
        box.remove();
        action.run();
      });
      p.append(" ", button);
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
 * Tell the page (app.js) that the document was renamed, by anyone: it shows
 * the new title in ``#doc-title`` and the window title.
 * @param {string} title
 */
export function announceTitle(title) {
  document.dispatchEvent(new CustomEvent("collabdocs:title", { detail: { title } }));
}
