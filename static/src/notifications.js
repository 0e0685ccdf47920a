/**
 * The bell in the header (templates/_usermenu.html): the unread badge, a
 * dropdown with the latest notifications, "Mark all read", and links to
 * the notifications page and the email settings. Loaded on every page
 * for signed-in people, as the esbuild bundle or straight from
 * static/src as a module script (its one import, api.js, sits beside it).
 *
 * Sources of truth, in order:
 *   - the page: the server renders the unread count into the badge, so it
 *     is right before (and without) this script;
 *   - the API (notifications/api.py): the dropdown loads the latest each
 *     time it opens, and the count is refreshed when the tab comes back
 *     into view;
 *   - the socket, on the editor page only: editor.js dispatches the window
 *     event `collabdocs:notify` whose detail is the notify frame's payload:
 *     `{notification, unread}` for a new one (contract §6: the item is
 *     prepended, the badge set to `unread`, screen readers told), or
 *     `{read: [ids] | "all", unread}` when the person marked some read on
 *     another page (those items lose their dot).
 *
 * Opening an item goes through /notifications/<id>/, which marks it read
 * and redirects to its place; an item about the page already open is
 * marked read through the API instead and only moves to its #fragment.
 *
 * Texts come from people (titles, names, message excerpts): they are shown
 * with textContent, never as HTML.
 */
import { api } from "./api.js";

/** How many notifications the dropdown shows. */
const LIST_LIMIT = 10;
/** The tab coming back refreshes the count at most this often (ms). */
const REFRESH_MIN_INTERVAL = 30_000;

/**
 * @typedef {Object} Notification
 * @property {number} id
 * @property {string} kind
 * @property {string} text
 * @property {string} url  a path on this site
 * @property {{id: string, title: string}} document
 * @property {{id: number, name: string}|null} actor
 * @property {string} created_at  ISO 8601, UTC
 * @property {boolean} read
 */

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" });
/** @type {[Intl.RelativeTimeFormatUnit, number][]} */
const UNITS = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

/**
 * Return "5 min. ago" (or "just now") for an ISO time.
 * @param {string} iso
 * @param {number} [now]
 */
export function ago(iso, now = Date.now()) {
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  if (!Number.isFinite(seconds) || seconds < 60) return "just now";
  for (const [unit, size] of UNITS) {
    if (seconds >= size) return RELATIVE.format(-Math.floor(seconds / size), unit);
  }
  return "just now";
}

/**
 * Return whether `value` looks like a notification from the server.
 * @param {any} value
 * @returns {value is Notification}
 */
function isNotification(value) {
  return (
    !!value &&
    typeof value === "object" &&
    Number.isInteger(value.id) &&
    typeof value.text === "string" &&
    typeof value.url === "string" &&
    value.url.startsWith("/")
  );
}

/** One bell and its dropdown. */
class Bell {
  /** @param {HTMLDetailsElement} root  the `details[data-notifications]` element */
  constructor(root) {
    this.root = root;
    this.summary = /** @type {HTMLElement} */ (root.querySelector("summary"));
    this.badge = /** @type {HTMLElement} */ (root.querySelector("[data-notif-badge]"));
    this.list = /** @type {HTMLElement} */ (root.querySelector("[data-notif-list]"));
    this.status = /** @type {HTMLElement} */ (root.querySelector("[data-notif-status]"));
    this.readAll = /** @type {HTMLButtonElement} */ (root.querySelector("[data-notif-read-all]"));
    /** A polite live region beside the bell (outside it: a closed details hides its content). */
    this.announcer = root.parentElement?.querySelector("[data-notif-announce]") ?? null;
    this.apiUrl = root.dataset.apiUrl || "/api/notifications";
    this.readUrl = root.dataset.readUrl || "/api/notifications/read";
    this.openUrl = root.dataset.openUrl || "/notifications/0/";
    /** @type {Notification[]} newest first */
    this.items = [];
    this.loaded = false;
    this.unread = Number.parseInt(this.badge.textContent || "0", 10) || 0;
    this.lastRefresh = Date.now();
    /** Bumped by every load, so an older answer never overwrites a newer one. */
    this.generation = 0;
  }

  install() {
    this.root.addEventListener("toggle", () => {
      if (this.root.open) this.load();
    });
    this.readAll.addEventListener("click", () => this.markAllRead());
    this.list.addEventListener("click", (event) => this.onItemClick(event));
    document.addEventListener("click", (event) => {
      if (this.root.open && !this.root.contains(/** @type {Node} */ (event.target))) this.close();
    });
    this.root.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.root.open) {
        this.close();
        this.summary.focus();
      }
    });
    window.addEventListener("collabdocs:notify", (event) => {
      this.receive(/** @type {CustomEvent} */ (event).detail);
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && Date.now() - this.lastRefresh > REFRESH_MIN_INTERVAL) {
        this.load();
      }
    });
  }

  close() {
    this.root.open = false;
  }

  /** @param {number} count */
  setUnread(count) {
    this.unread = Math.max(0, count | 0);
    this.badge.textContent = this.unread > 99 ? "99+" : String(this.unread);
    this.badge.hidden = this.unread === 0;
    this.readAll.hidden = this.unread === 0;
    this.summary.setAttribute(
      "aria-label",
      this.unread ? `Notifications, ${this.unread} unread` : "Notifications",
    );
    this.showStatus();
  }

  /** @param {string} [error]  shown instead of the summary line */
  showStatus(error) {
    this.status.classList.toggle("notif-error", !!error);
    if (error) this.status.textContent = error;
    else if (this.loaded && this.items.length === 0) this.status.textContent = "No notifications yet.";
    else if (!this.loaded) this.status.textContent = this.unread ? `${this.unread} unread.` : "Nothing new.";
    else this.status.textContent = "";
    this.status.hidden = this.status.textContent === "";
  }

  /** Fetch the latest notifications and the unread count, and redraw. */
  async load() {
    const generation = ++this.generation;
    this.lastRefresh = Date.now();
    if (!this.loaded) this.showStatus("Loading…");
    try {
      const data = await api(`${this.apiUrl}?limit=${LIST_LIMIT}`);
      if (generation !== this.generation) return;
      const fresh = (Array.isArray(data.notifications) ? data.notifications : []).filter(isNotification);
      // Keep what arrived over the socket while the request was out.
      const known = new Set(fresh.map((item) => item.id));
      const newer = this.items.filter((item) => !known.has(item.id) && item.id > (fresh[0]?.id ?? 0));
      this.items = [...newer, ...fresh].slice(0, LIST_LIMIT);
      this.loaded = true;
      this.render();
      this.setUnread(typeof data.unread === "number" ? data.unread : this.unread);
    } catch (error) {
      if (generation === this.generation) this.showStatus(error.message);
    }
  }

  /**
   * Take a notify payload from the socket: `{notification, unread}` or
   * `{read, unread}` (see the module comment).
   * @param {any} payload
   */
  receive(payload) {
    if (!payload || typeof payload !== "object") return;
    const item = payload.notification;
    if (isNotification(item) && !this.items.some((known) => known.id === item.id)) {
      this.items = [item, ...this.items].slice(0, LIST_LIMIT);
      if (this.loaded) this.render();
      this.summary.classList.remove("notif-pulse");
      void this.summary.offsetWidth; // restart the animation
      this.summary.classList.add("notif-pulse");
      if (this.announcer) this.announcer.textContent = `New notification: ${item.text}`;
    }
    if (payload.read === "all" || Array.isArray(payload.read)) {
      this.markedElsewhere(payload.read);
    }
    if (typeof payload.unread === "number") this.setUnread(payload.unread);
  }

  /** @param {"all"|number[]} read  what was marked read on another page */
  markedElsewhere(read) {
    for (const item of this.items) {
      if (read === "all" || read.includes(item.id)) item.read = true;
    }
    if (this.loaded) this.render();
  }

  render() {
    this.list.replaceChildren(...this.items.map((item) => this.renderItem(item)));
    this.showStatus();
  }

  /** @param {Notification} item */
  renderItem(item) {
    const li = document.createElement("li");
    li.className = item.read ? "notif-item" : "notif-item notif-unread";
    li.dataset.notificationId = String(item.id);
    const link = document.createElement("a");
    link.href = this.openUrl.replace(/\/0\/$/, `/${item.id}/`);
    link.dataset.target = item.url;
    const text = document.createElement("span");
    text.className = "notif-text";
    text.textContent = item.text;
    const meta = document.createElement("span");
    meta.className = "notif-meta";
    const time = document.createElement("time");
    time.dateTime = item.created_at;
    time.title = new Date(item.created_at).toLocaleString();
    time.textContent = ago(item.created_at);
    meta.append(`${item.document?.title ?? ""} · `, time);
    link.append(text, meta);
    li.append(link);
    return li;
  }

  /**
   * An item about the page already open: mark it read here and move to
   * its fragment instead of reloading the page.
   * @param {MouseEvent} event
   */
  onItemClick(event) {
    const link = /** @type {Element} */ (event.target).closest("a[data-target]");
    if (!(link instanceof HTMLAnchorElement) || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const target = new URL(link.dataset.target || "/", window.location.href);
    if (target.origin !== window.location.origin || target.pathname !== window.location.pathname) return;
    event.preventDefault();
    const id = Number(link.closest("li")?.dataset.notificationId);
    this.close();
    if (target.hash) window.location.hash = target.hash;
    this.markRead([id]);
  }

  /** @param {number[]} ids */
  async markRead(ids) {
    try {
      const data = await api(this.readUrl, { method: "POST", body: { ids } });
      for (const item of this.items) if (ids.includes(item.id)) item.read = true;
      this.render();
      this.setUnread(data.unread);
    } catch (error) {
      this.showStatus(error.message);
    }
  }

  async markAllRead() {
    this.readAll.disabled = true;
    try {
      const data = await api(this.readUrl, { method: "POST", body: { all: true } });
      for (const item of this.items) item.read = true;
      this.render();
      this.setUnread(data.unread);
    } catch (error) {
      this.showStatus(error.message);
    } finally {
      this.readAll.disabled = false;
    }
  }
}

for (const root of document.querySelectorAll("details[data-notifications]")) {
  if (root instanceof HTMLDetailsElement) new Bell(root).install();
}
