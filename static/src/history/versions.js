/**
 * The version list's state: pages fetched newest first with a ``next``
 * cursor (``GET …/history?before=<id>&limit=<n>``), and live history frames
 * (``collabdocs:history``: a version saved, named, restored or renamed)
 * folded in without a reload.
 *
 * Pure and DOM-free (tests/js/history_versions.test.mjs). Invariants:
 * - one item per version id; the pseudo-version "the document as it is
 *   now" (``id`` null) comes first when the server lists it;
 * - the items are newest first (revision, then id, descending);
 * - at most one item is ``is_current``: a frame about the version at the
 *   head makes it current and withdraws the "now" item.
 */

/**
 * @typedef {Object} Version  one item of the history list (documents/history_views.py)
 * @property {number|null} id
 * @property {number} revision
 * @property {string} kind
 * @property {string} label
 * @property {string|null} created_at
 * @property {boolean} [is_current]
 * @property {Array<{id: number, name: string}|null>} [authors]
 */

/**
 * @typedef {Object} HistoryFrame  documents.events.history_changed's payload
 * @property {"saved"|"named"|"restored"|"renamed"} event
 * @property {Version} version
 * @property {{id: number, name: string}|null} [by]
 * @property {{revision: number, from: number, undo_until: string}} [restore]
 */

export const PAGE_SIZE = 50;

/** @param {Version} a @param {Version} b */
function newestFirst(a, b) {
  if ((a.id === null) !== (b.id === null)) return a.id === null ? -1 : 1;
  return (b.revision - a.revision) || ((b.id ?? 0) - (a.id ?? 0));
}

export class VersionList {
  constructor() {
    /** @type {Version[]} */
    this.items = [];
    /** @type {number|null} the ``before`` of the next page; null: no more */
    this.next = null;
    /** whether a first page arrived */
    this.loaded = false;
  }

  /**
   * Take a page the server answered: the first (``before`` absent)
   * replaces the list, a later one adds older versions.
   *
   * @param {{versions: Version[], next?: number|null}} page
   * @param {{first?: boolean}} [options]
   */
  addPage(page, { first = false } = {}) {
    const versions = Array.isArray(page.versions) ? page.versions : [];
    if (first) this.items = [];
    for (const version of versions) this.upsert(version, { live: false });
    this.next = typeof page.next === "number" ? page.next : null;
    this.loaded = true;
  }

  /** Whether an older page can be fetched. */
  get hasMore() {
    return this.next !== null;
  }

  /**
   * The query string of the next page (``?before=…&limit=…``), or null.
   * @param {number} [limit]
   */
  nextQuery(limit = PAGE_SIZE) {
    if (this.next === null) return null;
    return `?before=${encodeURIComponent(String(this.next))}&limit=${limit}`;
  }

  /**
   * Fold a live history frame in; return the version it is about, or null
   * when the frame is not one (ignored).
   *
   * @param {HistoryFrame} frame
   * @returns {Version|null}
   */
  apply(frame) {
    if (!frame || typeof frame !== "object") return null;
    const version = frame.version;
    if (!version || typeof version !== "object" || typeof version.id !== "number") return null;
    if (!["saved", "named", "restored", "renamed"].includes(frame.event)) return null;
    if (!this.loaded) return version;
    if (frame.event === "renamed" && !this.items.some((item) => item.id === version.id)) {
      return version; // an older version not fetched yet: its page will bring it
    }
    this.upsert(version, { live: true });
    return version;
  }

  /**
   * Put ``version`` in its place, replacing an item with the same id.
   * @param {Version} version
   * @param {{live: boolean}} options
   */
  upsert(version, { live }) {
    let items = this.items.filter((item) => !(item.id !== null && item.id === version.id));
    if (live && version.is_current) {
      items = items
        .filter((item) => item.id !== null)
        .map((item) => (item.is_current ? { ...item, is_current: false } : item));
    } else if (live) {
      // A version older than the head (a named autosave point): "now" stays.
      const now = items.find((item) => item.id === null);
      if (now && now.revision < version.revision) now.revision = version.revision;
    }
    items.push(version);
    items.sort(newestFirst);
    this.items = items;
  }

  /** @param {number|null} id */
  get(id) {
    return this.items.find((item) => item.id === id) || null;
  }
}
