/**
 * CollabDocs version history panel: list, preview, name, restore, download.
 *
 * Served from ``dist/`` when the bundle is built, else from ``src/`` as a
 * module script (its one import, api.js, is served beside it). It reads its
 * endpoints from
 * ``#history-panel`` (data-history-url, data-name-url, data-settings-url)
 * and opens with the ``[data-history-open]`` button.
 *
 * Everything from the server goes in with ``textContent`` or attributes,
 * with one exception: a version's preview is HTML rendered by the server
 * through ``documents/render.py`` (every string escaped, then nh3 with an
 * allow-list), which is the same HTML the document page itself shows.
 *
 * A restore is a change like any other: the editor receives it over its
 * socket, so the panel only refreshes its list.
 */
import { api } from "./api.js";

(() => {
  const panelOrNull = document.getElementById("history-panel");
  const openButtonOrNull = document.querySelector("[data-history-open]");
  if (!panelOrNull || !openButtonOrNull) return;
  const panel = panelOrNull;
  const openButton = openButtonOrNull;
  // The panel's endpoints: the template always sets these data-* attributes.
  const urls = {
    history: /** @type {string} */ (panel.dataset.historyUrl),
    name: /** @type {string} */ (panel.dataset.nameUrl),
    settings: /** @type {string} */ (panel.dataset.settingsUrl),
  };

  /** @param {string} selector  an element of the panel */
  const part = (selector) => /** @type {HTMLElement} */ (panel.querySelector(selector));
  /** @param {string} name */
  const field = (name) => part(`[data-history-field="${name}"]`);
  const visibilityBox = /** @type {HTMLInputElement} */ (field("visibility").querySelector("input"));
  const KIND_LABELS = {
    current: "Current",
    initial: "Created",
    compaction: "Autosaved",
    named: "Named",
    restore: "Restore",
  };
  const FORMAT_LABELS = { txt: "Plain text", html: "HTML", md: "Markdown" };

  /** @type {null | {permissions: Object, versions: Array<Object>, visible_to_viewers: boolean, message?: string}} */
  let state = null;
  /** @type {null | Object} the version being previewed */
  let selected = null;
  let loading = null;

  function setStatus(text, kind = "info") {
    const status = field("status");
    status.textContent = text || "";
    status.dataset.kind = kind;
    status.hidden = !text;
  }

  function formatTime(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return "";
    return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  function names(people) {
    const list = (people || []).filter(Boolean).map((p) => p.name);
    if (list.length === 0) return "";
    if (list.length <= 3) return list.join(", ");
    return `${list.slice(0, 2).join(", ")} and ${list.length - 2} others`;
  }

  /**
   * Fill ``container`` with a download link per format; with ``markup``,
   * links to the same files with pending suggestions marked up
   * (``?suggestions=markup``), after a label saying so.
   * @param {HTMLElement} container
   * @param {Object<string, string>} urls
   * @param {{markup?: boolean}} [options]
   */
  function downloadLinks(container, urls, { markup = false } = {}) {
    container.replaceChildren();
    const entries = Object.entries(urls || {});
    if (markup && entries.length) {
      const label = document.createElement("span");
      label.className = "muted";
      label.textContent = "With suggestions marked up:";
      container.append(label);
    }
    for (const [fmt, url] of entries) {
      const link = document.createElement("a");
      link.href = markup ? `${url}?suggestions=markup` : url;
      link.download = "";
      link.dataset.export = fmt;
      if (markup) link.dataset.suggestions = "markup";
      link.textContent = FORMAT_LABELS[fmt] || fmt;
      container.append(link);
    }
  }

  // -------------------------------------------------------------- rendering

  function renderList() {
    const list = field("list");
    list.replaceChildren();
    if (!state) return;
    const { permissions } = state;
    part('[data-history-form="name"]').hidden = !permissions.can_name;
    const visibility = field("visibility");
    visibility.hidden = !permissions.can_configure;
    visibilityBox.checked = Boolean(state.visible_to_viewers);
    const message = field("message");
    message.textContent = state.message || "";
    message.hidden = !state.message;
    for (const version of state.versions) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "history-item";
      button.dataset.versionId = version.id === null ? "current" : String(version.id);
      button.dataset.kind = version.kind;
      if (version.is_current) button.dataset.current = "true";
      const top = document.createElement("span");
      top.className = "history-item-top";
      const label = document.createElement("span");
      label.className = "history-item-label";
      label.textContent = version.label;
      const badge = document.createElement("span");
      badge.className = "history-badge";
      badge.textContent = version.is_current ? "Current" : KIND_LABELS[version.kind] || version.kind;
      top.append(label, badge);
      const meta = document.createElement("span");
      meta.className = "history-item-meta";
      const who = names(version.authors);
      meta.textContent = [formatTime(version.created_at), who].filter(Boolean).join(" · ");
      button.append(top, meta);
      button.addEventListener("click", () => showVersion(version));
      item.append(button);
      list.append(item);
    }
  }

  function showList() {
    selected = null;
    field("preview").hidden = true;
    field("list").hidden = false;
    field("downloads").hidden = false;
  }

  async function showVersion(version) {
    if (version.id === null) {
      // The current state is what the editor shows: offer its downloads.
      setStatus("This is the document as it is now.", "info");
      return;
    }
    setStatus("");
    let data;
    try {
      data = await api(`${urls.history}/${version.id}`);
    } catch (error) {
      setStatus(error.message, "error");
      return;
    }
    selected = version;
    field("preview-title").textContent = data.label;
    field("preview-meta").textContent = [formatTime(data.created_at), names(version.authors),
      `revision ${data.revision}`].filter(Boolean).join(" · ");
    // Sanitised server-side (documents/render.py + nh3); see the module docstring.
    field("preview-content").innerHTML = data.html;
    downloadLinks(field("preview-downloads"), data.export);
    downloadLinks(field("preview-downloads-markup"), data.export, { markup: true });
    part("[data-history-restore]").hidden =
      !(state && state.permissions.can_restore) || version.is_current;
    field("list").hidden = true;
    field("downloads").hidden = true;
    field("preview").hidden = false;
  }

  // ---------------------------------------------------------------- actions

  async function load() {
    if (loading) return loading;
    panel.dataset.loaded = "false";
    loading = (async () => {
      try {
        state = await api(urls.history);
      } catch (error) {
        setStatus(error.message, "error");
        return;
      }
      panel.dataset.loaded = "true";
      renderList();
    })();
    try {
      await loading;
    } finally {
      loading = null;
    }
  }

  async function restoreSelected() {
    if (!selected) return;
    const button = /** @type {HTMLButtonElement} */ (part("[data-history-restore]"));
    button.disabled = true;
    setStatus("Restoring…", "info");
    let data;
    try {
      data = await api(`${urls.history}/${selected.id}/restore`, { method: "POST" });
    } catch (error) {
      setStatus(error.message, "error");
      return;
    } finally {
      button.disabled = false;
    }
    setStatus(data.message, "ok");
    showList();
    await load();
  }

  async function nameCurrent(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const input = form.elements.namedItem("name");
    let data;
    try {
      data = await api(urls.name, { method: "POST", body: { name: input.value } });
    } catch (error) {
      setStatus(error.message, "error");
      return;
    }
    input.value = "";
    setStatus(data.message, "ok");
    await load();
  }

  async function setVisibility(event) {
    const checkbox = event.currentTarget;
    let data;
    try {
      data = await api(urls.settings, {
        method: "POST",
        body: { visible_to_viewers: checkbox.checked },
      });
    } catch (error) {
      checkbox.checked = !checkbox.checked;
      setStatus(error.message, "error");
      return;
    }
    setStatus(data.message, "ok");
  }

  function open() {
    panel.hidden = false;
    openButton.setAttribute("aria-expanded", "true");
    document.body.classList.add("history-open");
    // Nothing stale to click while the list is fetched again.
    state = null;
    renderList();
    showList();
    load();
  }

  function close() {
    panel.hidden = true;
    openButton.setAttribute("aria-expanded", "false");
    document.body.classList.remove("history-open");
    setStatus("");
  }

  openButton.addEventListener("click", () => (panel.hidden ? open() : close()));
  part("[data-history-close]").addEventListener("click", close);
  part("[data-history-back]").addEventListener("click", showList);
  part("[data-history-restore]").addEventListener("click", restoreSelected);
  part('[data-history-form="name"]').addEventListener("submit", nameCurrent);
  visibilityBox.addEventListener("change", setVisibility);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) close();
  });

  window.collabdocsHistory = { open, close, load };
})();
