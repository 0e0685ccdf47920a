/**
 * Layout in the editor (issue 13): tables, alignment, indentation, fonts and
 * sizes, horizontal rules and page breaks, the page view, print, the word
 * count and the outline.
 *
 * - {@link registerLayout} registers the rule and page-break blots
 *   (blots.js) before the editor is made; Quill's own table module and its
 *   formats come with the schema's ``table`` format (schema.js).
 * - {@link layoutModules} turns the table module on.
 * - {@link installLayout} gives the toolbar's table, rule and page-break
 *   buttons their handlers (tables.js: the size picker and the menu over
 *   the table holding the cursor) and fills ``#layout-controls``: the
 *   "Page view" and "Outline" toggles (remembered per browser) and the
 *   word count (of the selection when there is one). The outline
 *   (outline.js) is drawn into ``#doc-outline``.
 *
 * Alignment, indentation, font and size are Quill's own formats, limited
 * to the schema's values (realtime/ot/schema.json); print.css-style rules
 * live in layout.css (``@media print``: only the title and the document,
 * paginated by ``@page``, a page break starting a new page).
 *
 * @module editor/layout
 */
import Quill from "quill";

import { Divider, PageBreak } from "./blots.js";
import { countLabel, countText } from "./count.js";
import "./layout.css";
import { markerChange } from "./markers.js";
import { Outline, headingsOf } from "./outline.js";
import { TableMenu, TablePicker, insertTable } from "./tables.js";

/** localStorage keys of the person's choices. */
const PAGE_VIEW_KEY = "collabdocs:page-view";
const OUTLINE_KEY = "collabdocs:outline";

/** Register the layout blots with Quill, before the editor is made. */
export function registerLayout() {
  Quill.register({ "formats/divider": Divider, "formats/pagebreak": PageBreak }, true);
}

/**
 * Return the Quill modules the layout needs, merged into the editor's options.
 * @returns {Record<string, unknown>}
 */
export function layoutModules() {
  return { table: true };
}

/** Read a remembered on/off choice (private browsing may refuse storage). */
function remembered(key, fallback) {
  try {
    const value = window.localStorage.getItem(key);
    return value === null ? fallback : value === "1";
  } catch {
    return fallback;
  }
}

function remember(key, on) {
  try {
    window.localStorage.setItem(key, on ? "1" : "0");
  } catch {
    // Not remembered: the choice still holds for this page.
  }
}

/**
 * Return a function that runs ``fn`` once, ``delay()`` ms after its last call.
 * @param {() => void} fn
 * @param {() => number} delay
 */
function debounced(fn, delay) {
  /** @type {ReturnType<typeof setTimeout>|null} */
  let timer = null;
  const run = () => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn();
    }, delay());
  };
  run.flush = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    fn();
  };
  return run;
}

/**
 * A toggle button for ``#layout-controls``.
 * @param {string} label
 * @param {string} className
 * @param {boolean} on
 * @param {(on: boolean) => void} onChange
 */
function toggleButton(label, className, on, onChange) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = `button button-quiet button-small layout-toggle ${className}`;
  button.textContent = label;
  button.setAttribute("aria-pressed", String(on));
  button.addEventListener("click", () => {
    const next = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", String(next));
    onChange(next);
  });
  return button;
}

/**
 * Install the layout controls (tables, rules, page breaks, page view, word
 * count, outline) on the editor.
 * @param {{quill: any, app: HTMLElement, toolbar: HTMLElement, notices: any}} context
 * @returns {object} what the browser tests and window.collabdocs.layout reach
 */
export function installLayout({ quill, app, toolbar, notices }) {
  const toolbarModule = quill.getModule("toolbar");

  // Rules and page breaks: a line of their own at the cursor.
  const insertMarker = (/** @type {string} */ name) => {
    const range = quill.getSelection(true);
    if (!range) return;
    if (range.length) quill.deleteText(range.index, range.length, "user");
    const [line, offset] = quill.getLine(range.index);
    if (!line) return;
    const { change, cursor } = markerChange({
      name,
      index: range.index,
      lineStart: range.index - offset,
      lineLength: line.length(),
      lineFormats: typeof line.formats === "function" ? { ...line.formats() } : {},
    });
    quill.updateContents(change, "user");
    quill.setSelection(cursor, 0, "user");
  };
  toolbarModule?.addHandler("divider", () => insertMarker("divider"));
  toolbarModule?.addHandler("pagebreak", () => insertMarker("pagebreak"));

  // Tables: the toolbar button opens the size picker; the menu follows the cursor.
  const picker = new TablePicker({
    onPick: (rows, columns) => {
      if (insertTable(quill, rows, columns)) return;
      notices?.show({
        kind: "layout",
        message: "A table can't go inside a table: put the cursor below it first.",
        tone: "info",
      });
    },
  });
  const tableButton = toolbar.querySelector("button.ql-table");
  toolbarModule?.addHandler("table", () => {
    if (tableButton instanceof HTMLElement) picker.toggle(tableButton);
  });
  const menu = new TableMenu(quill);
  quill.on("editor-change", () => menu.update());

  const controls = app.querySelector("#layout-controls");
  const outlineEl = app.querySelector("#doc-outline");

  // Page view: the document on a page-width sheet with its margins.
  const setPageView = (/** @type {boolean} */ on) => {
    app.classList.toggle("page-view", on);
    remember(PAGE_VIEW_KEY, on);
  };
  const pageViewOn = remembered(PAGE_VIEW_KEY, false);
  app.classList.toggle("page-view", pageViewOn);
  const pageViewButton = toggleButton("Page view", "page-view-toggle", pageViewOn, setPageView);
  pageViewButton.title = "Show the document as printed pages";

  // Outline: the headings, drawn only while shown.
  /** @type {Outline|null} */
  let outline = null;
  const jump = (/** @type {number} */ index) => {
    const [line] = quill.getLine(Math.min(index, quill.getLength() - 1));
    if (quill.isEnabled()) quill.setSelection(index, 0, "user");
    line?.domNode?.scrollIntoView({ block: "start" });
  };
  const drawOutline = debounced(
    () => outline?.show(headingsOf(quill.getContents().ops)),
    () => 150 + Math.min(1500, quill.getLength() / 500),
  );
  const setOutline = (/** @type {boolean} */ on) => {
    if (!(outlineEl instanceof HTMLElement)) return;
    outlineEl.hidden = !on;
    app.classList.toggle("outline-open", on);
    remember(OUTLINE_KEY, on);
    if (on) {
      outline ??= new Outline({ element: outlineEl, onJump: jump });
      drawOutline.flush();
    }
  };
  const outlineButton = toggleButton("Outline", "outline-toggle", false, setOutline);
  outlineButton.title = "Show the document's headings";
  if (outlineEl instanceof HTMLElement) outlineButton.setAttribute("aria-controls", outlineEl.id);

  // Word count: of the document, or of the selection.
  const count = document.createElement("span");
  count.className = "word-count";
  count.title = "Words and characters (of the selection when there is one)";
  /** @type {{words: number, characters: number}} */
  let total = { words: 0, characters: 0 };
  /** @type {{words: number, characters: number} | null} */
  let selected = null;
  const showCount = () => {
    count.textContent = countLabel(total, selected);
  };
  const countAll = debounced(
    () => {
      total = countText(quill.getText());
      showCount();
    },
    () => 150 + Math.min(1500, quill.getLength() / 500),
  );
  const countSelection = debounced(() => {
    const range = quill.getSelection();
    selected = range && range.length > 0 ? countText(quill.getText(range.index, range.length)) : null;
    showCount();
  }, () => 100);

  quill.on("text-change", () => {
    countAll();
    if (selected) countSelection();
    if (outline && outlineEl instanceof HTMLElement && !outlineEl.hidden) drawOutline();
  });
  quill.on("selection-change", (range) => {
    if (range) countSelection();
  });

  if (controls instanceof HTMLElement) {
    controls.append(pageViewButton, outlineButton, count);
  }
  countAll.flush();
  if (remembered(OUTLINE_KEY, false)) {
    outlineButton.setAttribute("aria-pressed", "true");
    setOutline(true);
  }

  return {
    picker,
    menu,
    /** Insert a table after the cursor's line (tests, scripts). */
    insertTable: (/** @type {number} */ rows, /** @type {number} */ columns) => insertTable(quill, rows, columns),
    /** The counts now (flushing a pending recount). */
    wordCount: () => {
      countAll.flush();
      countSelection.flush();
      return { total, selected, label: count.textContent };
    },
    setPageView: (/** @type {boolean} */ on) => {
      pageViewButton.setAttribute("aria-pressed", String(on));
      setPageView(on);
    },
    setOutline: (/** @type {boolean} */ on) => {
      outlineButton.setAttribute("aria-pressed", String(on));
      setOutline(on);
    },
    /** The outline's headings now (flushing a pending redraw). */
    headings: () => {
      drawOutline.flush();
      return outline?.headings ?? [];
    },
  };
}
