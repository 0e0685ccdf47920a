/**
 * CollabDocs version history panel: the list (live, paged), preview, name,
 * restore (asked first, undoable), compare two versions, "changes since you
 * last opened", the timeslider, downloads.
 *
 * Served from ``dist/`` when the bundle is built, else from ``src/`` as a
 * module script (its imports, api.js and history/*.js, are served beside
 * it). It reads its endpoints from ``#history-panel`` (data-history-url,
 * data-name-url, data-settings-url, data-api-url: ``/api/docs/<id>``) and
 * opens with the ``[data-history-open]`` button. It talks to the editor only
 * through ``window.collabdocs`` (its ``notices``) and the
 * ``collabdocs:history`` window event (history frames, contract.md).
 *
 * Everything from the server goes in with ``textContent`` or attributes,
 * with one exception: a version's preview is HTML rendered by the server
 * through ``documents/render.py`` (every string escaped, then nh3 with an
 * allow-list), the same HTML the document page itself shows. Compare and
 * timeslider content is drawn from ops by history/redline.js, as text.
 *
 * A restore is a change like any other: the editor receives it over its
 * socket; the history frame that follows tells every page who restored
 * which version (a notice, with Undo for the person who did, until the
 * server's deadline) and puts the new version at the top of open lists.
 */
import { api } from "./api.js";
import { attribute, lineModel, renderLines, summaryText } from "./history/redline.js";
import { showTime, timeElement } from "./history/time.js";
import { Timeslider } from "./history/timeslider.js";
import { PAGE_SIZE, VersionList } from "./history/versions.js";

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
    api: /** @type {string} */ (panel.dataset.apiUrl),
  };
  const app = document.getElementById("editor-app");
  const myId = Number(app?.dataset.userId) || null;
  const mediaPrefix = app?.dataset.imagePathPrefix || "/media/";

  /** @param {string} selector  an element of the panel */
  const part = (selector) => /** @type {HTMLElement} */ (panel.querySelector(selector));
  /** @param {string} name */
  const field = (name) => part(`[data-history-field="${name}"]`);
  const visibilityBox = /** @type {HTMLInputElement} */ (field("visibility").querySelector("input"));
  const confirmDialog = /** @type {HTMLDialogElement} */ (part("[data-history-confirm]"));
  const KIND_LABELS = {
    current: "Current",
    initial: "Created",
    compaction: "Autosaved",
    named: "Named",
    restore: "Restore",
  };
  const FORMAT_LABELS = {
    txt: "Plain text", html: "HTML", md: "Markdown", pdf: "PDF", docx: "Word (.docx)", odt: "OpenDocument (.odt)",
  };
  const VIEWS = ["list", "preview", "compare", "timeslider"];
  /** Most ids one call of the authors endpoint takes (review.api.AUTHORS_MAX). */
  const AUTHORS_MAX = 50;

  /** @type {null | {permissions: Object, visible_to_viewers: boolean, message?: string}} */
  let state = null;
  const versions = new VersionList();
  /** @type {null | Object} the version being previewed */
  let selected = null;
  let loading = null;
  /** @type {Set<number>} restores already announced by their frame */
  const seenRestores = new Set();
  /** @type {Map<number, {name: string, color: string}>} people met in compares */
  const people = new Map();

  function setStatus(text, kind = "info") {
    const status = field("status");
    status.textContent = text || "";
    status.dataset.kind = kind;
    status.hidden = !text;
  }

  function names(list) {
    const named = (list || []).filter(Boolean).map((p) => p.name);
    if (named.length === 0) return "";
    if (named.length <= 3) return named.join(", ");
    return `${named.slice(0, 2).join(", ")} and ${named.length - 2} others`;
  }

  /** Show one of the panel's views; compare and timeslider make it wide. @param {string} view */
  function showView(view) {
    for (const name of VIEWS) field(name).hidden = name !== view;
    for (const el of panel.querySelectorAll("[data-history-list-only]")) {
      /** @type {HTMLElement} */ (el).hidden = view !== "list";
    }
    panel.dataset.view = view;
    panel.classList.toggle("history-panel-wide", view === "compare" || view === "timeslider");
    if (view !== "timeslider") slider.pause();
  }

  /**
   * Fill ``container`` with a download link per format; with ``markup``,
   * links to the same files with pending suggestions marked up.
   * @param {HTMLElement} container
   * @param {Object<string, string>} links
   * @param {{markup?: boolean}} [options]
   */
  function downloadLinks(container, links, { markup = false } = {}) {
    container.replaceChildren();
    const entries = Object.entries(links || {});
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

  // -------------------------------------------------------------- the list

  /** @param {Object} version */
  function versionItem(version) {
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
    meta.append(timeElement(version.created_at));
    const who = names(version.authors);
    if (who) meta.append(` · ${who}`);
    button.append(top, meta);
    button.addEventListener("click", () => showVersion(version));
    item.append(button);
    return item;
  }

  function renderList() {
    const list = field("list-items");
    list.replaceChildren();
    if (!state) {
      field("more").hidden = true;
      return;
    }
    const { permissions } = state;
    part('[data-history-form="name"]').hidden = !permissions.can_name;
    field("visibility").hidden = !permissions.can_configure;
    visibilityBox.checked = Boolean(state.visible_to_viewers);
    const message = field("message");
    message.textContent = state.message || "";
    message.hidden = !state.message;
    field("tools").hidden = !permissions.can_browse;
    list.append(...versions.items.map(versionItem));
    field("more").hidden = !versions.hasMore;
    renderChoices();
  }

  /** The compare form's two menus: "Now" and every version listed. */
  function renderChoices() {
    for (const which of ["from", "to"]) {
      const select = /** @type {HTMLSelectElement} */ (field(`compare-${which}`));
      const keep = select.value;
      select.replaceChildren();
      const now = new Option("Now", "now");
      select.append(now);
      for (const version of versions.items) {
        if (version.id === null) continue;
        const when = showTime(version.created_at);
        select.append(new Option(`${version.label}${when ? ` · ${when.text}` : ""}`, String(version.id)));
      }
      if (keep && [...select.options].some((o) => o.value === keep)) select.value = keep;
      else if (which === "from") select.selectedIndex = Math.min(1, select.options.length - 1);
    }
  }

  async function load() {
    if (loading) return loading;
    panel.dataset.loaded = "false";
    loading = (async () => {
      try {
        const data = await api(`${urls.history}?limit=${PAGE_SIZE}`);
        state = data;
        versions.addPage(data, { first: true });
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

  async function loadOlder() {
    const query = versions.nextQuery();
    if (!query) return;
    const button = /** @type {HTMLButtonElement} */ (field("more"));
    button.disabled = true;
    try {
      versions.addPage(await api(`${urls.history}${query}`));
    } catch (error) {
      setStatus(error.message, "error");
    } finally {
      button.disabled = false;
    }
    renderList();
  }

  // --------------------------------------------------------------- preview

  async function showVersion(version) {
    if (version.id === null) {
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
    const meta = field("preview-meta");
    meta.replaceChildren(timeElement(data.created_at));
    meta.append(` · ${[names(version.authors), `revision ${data.revision}`].filter(Boolean).join(" · ")}`);
    // Sanitised server-side (documents/render.py + nh3); see the module docstring.
    field("preview-content").innerHTML = data.html;
    downloadLinks(field("preview-downloads"), data.export);
    downloadLinks(field("preview-downloads-markup"), data.export, { markup: true });
    part("[data-history-restore]").hidden =
      !(state && state.permissions.can_restore) || Boolean(version.is_current);
    showView("preview");
  }

  // ---------------------------------------------------------------- restore

  /** The editor's notices (editor.js), when the editor is on the page. */
  const notices = () => /** @type {any} */ (window.collabdocs?.notices) || null;

  /** Ask first; resolve true when the person confirms. */
  function confirmRestore() {
    if (!selected) return Promise.resolve(false);
    field("confirm-version").textContent = selected.label;
    const when = showTime(selected.created_at);
    field("confirm-time").textContent = when ? when.text : "";
    return new Promise((resolve) => {
      confirmDialog.addEventListener("close", () => resolve(confirmDialog.returnValue === "restore"), { once: true });
      confirmDialog.returnValue = "";
      confirmDialog.showModal();
    });
  }

  async function restoreSelected() {
    if (!selected || !(await confirmRestore())) return;
    const version = selected;
    const button = /** @type {HTMLButtonElement} */ (part("[data-history-restore]"));
    button.disabled = true;
    setStatus("Restoring…", "info");
    let data;
    try {
      data = await api(`${urls.history}/${version.id}/restore`, { method: "POST" });
    } catch (error) {
      setStatus(error.message, "error");
      return;
    } finally {
      button.disabled = false;
    }
    // Not the reply's message: the undo is in the notice.
    setStatus("Restored. Everyone editing sees this version now; undo it from the notice above the toolbar.", "ok");
    // The frame that follows says the same with the server's deadline; this
    // one is for a page whose socket is slow.
    if (!seenRestores.has(data.revision)) {
      const until = Date.parse(data.undo_until);
      restoreNotice({ by: { id: myId ?? 0, name: "You" }, revision: data.revision, from: version,
        undoUntil: Number.isFinite(until) ? until : Date.now() + 15 * 60_000 });
    }
    showView("list");
    await load();
  }

  /**
   * Tell the person who restored which version; the restorer gets Undo.
   * @param {{by: {id: number, name: string}|null, revision: number, from: Object|null, undoUntil: number}} restore
   */
  function restoreNotice({ by, revision, from, undoUntil }) {
    seenRestores.add(revision);
    const mine = by !== null && myId !== null && by.id === myId;
    const who = mine ? "You" : by?.name || "Someone";
    const when = from ? showTime(from.created_at) : null;
    const what = when ? `the version of ${when.text}` : from ? `“${from.label}”` : "an earlier version";
    const canUndo = mine && Number.isFinite(undoUntil) && undoUntil > Date.now();
    const box = notices()?.show({
      kind: "history-restore",
      message: `${who} restored ${what}.`,
      tone: "info",
      action: canUndo ? { label: "Undo", run: () => undoRestore(revision) } : null,
    });
    if (box && canUndo) {
      // The Undo button goes when the server would refuse it.
      setTimeout(() => box.querySelector(".cd-notice-action")?.remove(), undoUntil - Date.now());
    }
  }

  /** @param {number} revision  the restore's */
  async function undoRestore(revision) {
    try {
      await api(`${urls.history}/restore/undo`, { method: "POST", body: { revision } });
      notices()?.show({ kind: "history-restore", message: "You undid the restore.", tone: "info" });
    } catch (error) {
      notices()?.show({ kind: "history-restore", message: `The restore couldn’t be undone: ${error.message}`, tone: "warning" });
    }
    if (!panel.hidden) await load();
  }

  // ---------------------------------------------------------- live frames

  /**
   * The version ``id`` (listed, previewed, else asked for; null when the
   * person may not browse the history or it is gone).
   * @param {number|null|undefined} id
   * @returns {Promise<Object|null>}
   */
  async function versionNamed(id) {
    if (typeof id !== "number") return null;
    const known = versions.get(id) ?? (selected?.id === id ? selected : null);
    if (known) return known;
    try {
      return await api(`${urls.history}/${id}`);
    } catch {
      return null;
    }
  }

  /** @param {Event} event */
  function onHistoryFrame(event) {
    const frame = /** @type {CustomEvent} */ (event).detail;
    if (!frame || typeof frame !== "object") return;
    const version = versions.apply(frame);
    if (frame.event === "restored" && frame.restore?.undid) {
      // An undo of a restore: said to everyone, nothing to undo in turn.
      const mine = frame.by && frame.by.id === myId;
      const who = mine ? "You" : frame.by?.name || "Someone";
      notices()?.show({ kind: "history-restore", message: `${who} undid the restore.`, tone: "info" });
    } else if (frame.event === "restored" && frame.restore) {
      const { revision, from: fromId, undo_until: until } = frame.restore;
      versionNamed(fromId).then((from) => {
        restoreNotice({ by: frame.by ?? null, revision, from, undoUntil: Date.parse(until) });
      });
    }
    if (version && state && !panel.hidden) renderList();
  }

  // ---------------------------------------------------------------- compare

  /** @param {number|null} author */
  const colorOf = (author) => (author === null ? null : people.get(author)?.color ?? null);
  /** @param {number|null} author */
  const nameOf = (author) => (author === null ? "" : people.get(author)?.name ?? "");

  /**
   * Learn the names and colours of the redline's authors the compare did
   * not colour, from the document's authors endpoint (review app); on
   * failure the marks keep a neutral colour.
   * @param {{ops: Array<Object>, summary?: {by?: Array<{id: number}>}}} data
   */
  async function learnPeople(data) {
    const ids = new Set();
    for (const person of data.summary?.by || []) ids.add(person.id);
    for (const op of data.ops || []) {
      if (typeof op["diff-author"] === "number") ids.add(op["diff-author"]);
    }
    await learnIds(ids);
  }

  /**
   * Learn the names and colours of ``ids`` not met yet.
   * @param {Iterable<number|null>} ids
   */
  async function learnIds(ids) {
    const unknown = [...ids].filter((id) => typeof id === "number" && !people.has(id)).slice(0, AUTHORS_MAX);
    if (!unknown.length) return;
    try {
      const answer = await api(`${urls.api}/authors?ids=${unknown.join(",")}`);
      for (const person of answer.people || []) {
        people.set(person.id, { name: person.name, color: person.color });
      }
    } catch {
      // Names and colours are a nicety here; the marks say what changed.
    }
  }

  /** @param {string} query  the compare's query string */
  async function compare(query, title) {
    setStatus("Comparing…", "info");
    let data;
    try {
      data = await api(`${urls.api}/compare?${query}`);
    } catch (error) {
      setStatus(error.message, "error");
      return;
    }
    setStatus("");
    for (const person of data.summary?.by || []) {
      if (person.color) people.set(person.id, { name: person.name, color: person.color });
    }
    await learnPeople(data);
    for (const person of data.summary?.by || []) person.color = person.color || colorOf(person.id);
    field("compare-title").textContent = title;
    const range = field("compare-range");
    range.replaceChildren(`Revision ${data.from.rev} (`, timeElement(data.from.at), `) → revision ${data.to.rev} (`,
      timeElement(data.to.at), ")");
    field("compare-summary").textContent = summaryText(data.summary || {});
    const by = field("compare-by");
    by.replaceChildren(...(data.summary?.by || []).map((person) => {
      const li = document.createElement("li");
      const dot = document.createElement("span");
      dot.className = "history-dot";
      if (/^#[0-9a-f]{6}$/i.test(person.color || "")) dot.style.background = person.color;
      li.dataset.author = person.id === null ? "unknown" : String(person.id);
      // null: text from before authorship was kept.
      const who = person.id === null ? "Earlier text (author not recorded)" : person.name;
      li.append(dot, `${who}: ${summaryText(person)}`);
      return li;
    }));
    renderLines(field("compare-content"), lineModel(data.ops), { colorOf, nameOf, mediaPrefix });
    compared = { from: data.from.rev, to: data.to.rev };
    showView("compare");
  }

  /** @type {{from: number, to: number}|null} the range last compared */
  let compared = null;

  function compareChosen(event) {
    event.preventDefault();
    const from = /** @type {HTMLSelectElement} */ (field("compare-from")).value;
    const to = /** @type {HTMLSelectElement} */ (field("compare-to")).value;
    if (from === to) {
      setStatus("Choose two different versions to compare.", "error");
      return;
    }
    const older = from === "now" ? to : to === "now" ? from : null;
    const params = new URLSearchParams();
    if (older !== null) {
      params.set("from_version", older);
    } else {
      // Older first, whichever way round they were picked.
      const [a, b] = [versions.get(Number(from)), versions.get(Number(to))];
      const swap = a && b && a.revision > b.revision;
      params.set("from_version", swap ? to : from);
      params.set("to_version", swap ? from : to);
    }
    compare(params.toString(), "Compare versions");
  }

  // ------------------------------------------------------------- timeslider

  const scrubber = /** @type {HTMLInputElement} */ (field("slider-range"));
  const playButton = /** @type {HTMLButtonElement} */ (part("[data-history-play]"));
  const slider = new Timeslider({
    base: `${urls.api}/timeline`,
    get: (url, signal) => api(url, { fetchImpl: (input, init) => fetch(input, { ...init, signal }) }),
    onChange: (s) => {
      scrubber.min = String(s.first);
      scrubber.max = String(s.last);
      if (s.rev !== null) scrubber.value = String(s.rev);
      field("slider-rev").textContent = s.rev === null ? "" : `Revision ${s.rev} of ${s.last}`;
      field("slider-time").replaceChildren(timeElement(s.at), s.who ? ` · ${s.who}` : "");
      playButton.textContent = s.playing ? "Pause" : "Play";
      playButton.setAttribute("aria-pressed", String(s.playing));
      field("slider").dataset.busy = String(s.busy);
      if (s.error) setStatus(s.error, "error");
      if (drawing === null) {
        // One drawing per frame, of the newest state, however many changes came.
        drawing = requestAnimationFrame(() => {
          drawing = null;
          drawSlider(slider.state);
        });
      }
    },
  });
  /** @type {number|null} the frame that will draw the slider's document */
  let drawing = null;
  const authorsBox = /** @type {HTMLInputElement} */ (field("slider-authors").querySelector("input"));

  /**
   * Draw the slider's document, tinted by author when asked and known.
   * @param {import("./history/timeslider.js").SliderState} s
   */
  function drawSlider(s) {
    const showAuthors = authorsBox.checked && s.runs !== null;
    const ops = showAuthors && s.runs ? attribute(s.doc, s.runs) : s.doc;
    renderLines(field("slider-content"), lineModel(ops), {
      mediaPrefix, showAuthors, colorOf, nameOf, incremental: true, key: `${showAuthors}:${people.size}`,
    });
    // What the tests wait for: the revision drawn, not only fetched.
    field("slider").dataset.rev = s.rev === null ? "" : String(s.rev);
    if (showAuthors && s.runs) {
      const ids = new Set(s.runs.map((run) => run[1]));
      if ([...ids].some((id) => id !== null && !people.has(id))) {
        learnIds(ids).then(() => drawSlider(slider.state));
      }
    }
  }

  /** @param {{from?: number|null, to?: number|null, start?: number|null}} range */
  function openSlider(range) {
    setStatus("");
    showView("timeslider");
    slider.open(range);
  }

  // ------------------------------------------------------------- the rest

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
      data = await api(urls.settings, { method: "POST", body: { visible_to_viewers: checkbox.checked } });
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
    showView("list");
    load();
  }

  function close() {
    slider.pause();
    slider.abort();
    panel.hidden = true;
    openButton.setAttribute("aria-expanded", "false");
    document.body.classList.remove("history-open");
    panel.classList.remove("history-panel-wide");
    setStatus("");
  }

  openButton.addEventListener("click", () => (panel.hidden ? open() : close()));
  part("[data-history-close]").addEventListener("click", close);
  for (const back of panel.querySelectorAll("[data-history-back]")) {
    back.addEventListener("click", () => showView("list"));
  }
  part("[data-history-restore]").addEventListener("click", restoreSelected);
  part('[data-history-form="name"]').addEventListener("submit", nameCurrent);
  part('[data-history-form="compare"]').addEventListener("submit", compareChosen);
  part("[data-history-since]").addEventListener("click", () =>
    compare("since=last_visit", "Changes since you last opened"));
  part("[data-history-compare-now]").addEventListener("click", () => {
    if (selected?.id) compare(`from_version=${selected.id}`, `${selected.label} → now`);
  });
  part("[data-history-playback]").addEventListener("click", () => openSlider({}));
  part("[data-history-play-range]").addEventListener("click", () => openSlider(compared ?? {}));
  part("[data-history-play-from]").addEventListener("click", () => {
    if (selected) openSlider({ start: selected.revision });
  });
  playButton.addEventListener("click", () => (slider.state.playing ? slider.pause() : slider.play()));
  part("[data-history-step-back]").addEventListener("click", () => slider.step(-1));
  part("[data-history-step-forward]").addEventListener("click", () => slider.step(1));
  scrubber.addEventListener("input", () => slider.scrub(Number(scrubber.value)));
  authorsBox.addEventListener("change", () => drawSlider(slider.state));
  field("more").addEventListener("click", loadOlder);
  // Scrolling to the end of the list loads the next page as the button would.
  if (typeof IntersectionObserver === "function") {
    new IntersectionObserver((entries) => {
      const more = /** @type {HTMLButtonElement} */ (field("more"));
      if (entries.some((entry) => entry.isIntersecting) && !more.hidden && !more.disabled) loadOlder();
    }, { root: panel }).observe(field("more"));
  }
  visibilityBox.addEventListener("change", setVisibility);
  window.addEventListener("collabdocs:history", onHistoryFrame);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden && !confirmDialog.open) close();
  });

  // For the browser tests: the slider and the list's state besides globals.d.ts's three.
  window.collabdocsHistory = /** @type {any} */ ({ open, close, load, slider, versions });
})();
