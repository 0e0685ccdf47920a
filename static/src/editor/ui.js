/**
 * The page around the editor: the connection indicator (honest about
 * changes that will never be saved), notices to the person (toasts, from
 * toasts.js) and the title (who is here: people-list.js; the role, owner
 * and "edited" labels: labels.js). Renaming in place is app.js's (it POSTs
 * the new title); this module passes the server's ``title`` frames to it
 * as a ``collabdocs:title`` event.
 *
 * @module editor/ui
 */

import { dismissToast, showToast, toastStack } from "../toasts.js";

const STATUS_LABELS = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  offline: "Offline",
  stopped: "Offline",
};

/**
 * What the status says once the connection stopped for good
 * (``connection.stopReason``): never "Offline · N unsynced changes" for
 * changes that no reconnect will send.
 * @type {Record<string, string>}
 */
const STOPPED_LABELS = {
  forbidden: "Access removed",
  gone: "Document unavailable",
  signed_out: "Signed out",
  protocol: "Page out of date",
};

/**
 * Return "1 unsynced change" / "n unsynced changes".
 * @param {number} n
 */
export function unsyncedLabel(n) {
  return `${n} unsynced change${n === 1 ? "" : "s"}`;
}

/**
 * Return "1 change not saved" / "n changes not saved".
 * @param {number} n
 */
export function notSavedLabel(n) {
  return `${n} change${n === 1 ? "" : "s"} not saved`;
}

/**
 * Return the status text: the connection's state, then what is true of
 * the person's changes. Pure.
 *
 * - Stopped for good because access went (``forbidden``), the document
 *   went (``gone``) or the page is out of date (``protocol``): the reason,
 *   and the pending changes as *not saved* (they never will be).
 * - Signed out: the pending changes are unsynced and wait for a sign-in.
 * - A notice that says a change was refused (``note``, e.g. "Last change
 *   not saved") replaces "All changes saved" while it is up.
 * - Pending changes that came back from the offline store (``restored``,
 *   offline/) are marked "(restored)" until they are sent.
 *
 * @param {{status: string, pending: number, stopReason?: string|null, note?: string,
 *   restored?: number}} state
 * @returns {string}
 */
export function statusText({ status, pending, stopReason = null, note = "", restored = 0 }) {
  const stopped = stopReason ? STOPPED_LABELS[stopReason] : undefined;
  if (stopped) {
    if (pending <= 0) return stopped;
    if (stopReason === "signed_out") return `${stopped} · ${unsyncedLabel(pending)} (sign in to save)`;
    return `${stopped} · ${notSavedLabel(pending)}`;
  }
  const parts = [STATUS_LABELS[status] || status];
  if (note) parts.push(note);
  if (pending > 0) parts.push(unsyncedLabel(pending) + (restored > 0 ? " (restored)" : ""));
  else if (status === "connected" && !note) parts.push("All changes saved");
  return parts.join(" · ");
}

/**
 * Show the connection state, the count of unsynced changes, why the
 * connection stopped, and a refused change while its notice is up.
 *
 * @param {HTMLElement|null} element  ``#connection-status``
 * @param {{notices?: Notices|null, stopReason?: () => (string|null)}} [sources]
 *   the notices whose ``status`` phrases are shown, and the connection's
 *   stop reason
 * @returns {(state: {status: string, pending: number, retrying: boolean, restored?: number}) => void}
 */
export function statusIndicator(element, { notices = null, stopReason = () => null } = {}) {
  /** @type {{status: string, pending: number, retrying: boolean, restored?: number}} */
  let last = { status: "connecting", pending: 0, retrying: false };
  const render = () => {
    if (!element) return;
    const { status, pending, retrying, restored = 0 } = last;
    const reason = stopReason() || null;
    const note = notices ? notices.statusNote() : "";
    const text = statusText({ status, pending, stopReason: reason, note, restored });
    element.textContent = text;
    element.dataset.state = status === "stopped" ? "offline" : status;
    element.dataset.pending = String(pending);
    if (reason) element.dataset.reason = reason;
    else delete element.dataset.reason;
    if (note) element.dataset.note = note;
    else delete element.dataset.note;
    element.title = retrying ? "The server is busy; your changes will be sent again shortly." : text;
  };
  notices?.onChange(render);
  return (state) => {
    last = state;
    render();
  };
}

/**
 * Kinds of notice that report a passing state, not trouble: always shown
 * in the calm "info" tone, whatever tone the caller asked for.
 */
const CALM_KINDS = new Set(["rate_limited"]);

/**
 * Messages to the person on the editor page, as toasts (toasts.js): in
 * view wherever the page is scrolled, errors and warnings until dismissed
 * or withdrawn, text to copy back until dismissed.
 */
export class Notices {
  /**
   * @param {HTMLElement|null} [app]  ``#editor-app``: kept for callers; the
   *   stack is the page's (toasts.js), outside it, so it never scrolls away
   */
  constructor(app = null) {
    this.app = app;
    /** The page's toast stack (``.cd-notices``). */
    this.element = toastStack(document);
    /** @type {Array<() => void>} */
    this._listeners = [];
    // Toasts go by themselves too (fade, ×, Escape, an action pressed): watch
    // the stack rather than each way out.
    new MutationObserver(() => {
      for (const listener of this._listeners) listener();
    }).observe(this.element, { childList: true });
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
   * @param {string} [notice.status]  shown in the connection status while
   *   the notice is up (e.g. "Last change not saved")
   * @returns {HTMLElement|null}  the notice, or null when withdrawn
   */
  show({ kind, message, text = "", link = null, tone = "warning", action = null, status = "" }) {
    if (CALM_KINDS.has(kind)) tone = "info";
    return showToast({ kind, message, text, link, tone, action, status });
  }

  /** @param {string} kind */
  dismiss(kind) {
    dismissToast(kind, document);
  }

  /**
   * Call ``listener`` whenever a notice comes or goes.
   * @param {() => void} listener
   */
  onChange(listener) {
    this._listeners.push(listener);
  }

  /** Return the ``status`` phrase of the newest notice that has one, or "". */
  statusNote() {
    const boxes = [...this.element.querySelectorAll(".cd-toast[data-status]")];
    const newest = /** @type {HTMLElement|undefined} */ (boxes[boxes.length - 1]);
    return newest?.dataset.status || "";
  }
}

/**
 * Return the notice to show for the connection's ``notice`` event: the
 * stop reasons get their link (sign in, back to the list) and the error
 * tone; a reload that lost nothing is calm.
 *
 * @param {{kind: string, message: string, text?: string, status?: string}} notice
 * @param {string} pathname  the page's path (where to come back after signing in)
 * @returns {Parameters<Notices["show"]>[0]}
 */
export function connectionNotice({ kind, message, text = "", status = "" }, pathname) {
  /** @type {Parameters<Notices["show"]>[0]} */
  const notice = { kind, message, text, status, tone: "warning" };
  if (kind === "signed_out") {
    notice.link = { href: `/accounts/login/?next=${encodeURIComponent(pathname)}`, label: "Sign in" };
    notice.tone = "error";
  } else if (kind === "gone" || kind === "forbidden" || kind === "protocol") {
    if (kind !== "protocol") notice.link = { href: "/", label: "Back to your documents" };
    notice.tone = "error";
  } else if (kind === "reloaded") {
    notice.tone = "info";
  } else if (kind === "unsaved") {
    notice.tone = "error";
  }
  return notice;
}

/**
 * Tell the page (app.js) that the document was renamed, by anyone: it shows
 * the new title in ``#doc-title`` and the window title.
 * @param {string} title
 */
export function announceTitle(title) {
  document.dispatchEvent(new CustomEvent("collabdocs:title", { detail: { title } }));
}
