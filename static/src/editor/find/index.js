/**
 * Find and replace inside the document (issue 16).
 *
 * - Ctrl+F (Cmd+F) opens the find bar, Ctrl+H (Cmd+Shift+H on a Mac) opens
 *   it with the replace row; the "Find" button in the toolbar row does it
 *   on a phone. Escape closes it and gives the focus back to where it was
 *   (the editor: with the current match selected).
 * - Enter / Shift+Enter in the query (or Ctrl+G / Ctrl+Shift+G, or the
 *   arrows) go to the next / previous match and scroll it into view; the
 *   count says "n of m". Match case and Whole word narrow the search.
 * - Matches are drawn as CSS Custom Highlights (highlight.js), never
 *   written into the document, and stay right while anyone types: the
 *   current match's position follows every change, the matches are
 *   searched again shortly after (longer after on a large document).
 * - Replace and Replace all are ONE change each, made as the person's own
 *   (``quill.updateContents(change, "user")``): one undo step, one op to
 *   the server (unless it is larger than the server's ops per change: the
 *   OT client then sends it in pieces, as any large change). They run only where the person's typing is accepted now
 *   (the editor is enabled): in Editing mode the text is replaced; in
 *   Suggesting mode the binding's rewrite turns the change into a
 *   suggestion, as for typing. Viewers, and anyone in Viewing mode or
 *   before the document is connected, can find but not replace, and the
 *   bar says why.
 * - Large documents: at most 100,000 matches are counted and 1,000 drawn
 *   (search.js, highlight.js), so a one-letter search in a megabyte of
 *   text does not freeze the page.
 *
 * @module editor/find
 */
import Delta from "quill-delta";

import { buildBar, buildOpener } from "./bar.js";
import "./find.css";
import { clear, paint, rangeOf } from "./highlight.js";
import { FIND_KEYS, findAction, isMac, keyLabel, modalOpen } from "./keys.js";
import { countLabel, documentText, findMatches, matchAtOrAfter, matcher, replaceOps } from "./search.js";

/** Milliseconds between a change to the document and the new search. */
const SEARCH_DELAY = 150;
/** ... and the most it grows to on a large document (about 1 ms per 2 kB). */
const MAX_SEARCH_DELAY = 1500;
/** The longest selection taken as the query when the bar opens. */
const MAX_SELECTION_QUERY = 200;

/**
 * Install find and replace on the editor page.
 * @param {{quill: any, app: HTMLElement, notices: any, access: () => {canEdit: boolean, canComment: boolean}}} options
 * @returns {object} what the browser tests and window.collabdocs.find reach
 */
export function installFind(options) {
  const { quill, app, notices, access } = options;
  const mac = isMac();
  const label = (/** @type {keyof typeof FIND_KEYS} */ action) => keyLabel(FIND_KEYS[action][mac ? 1 : 0], mac);
  const bar = buildBar({
    find: label("find"),
    replace: label("replace"),
    next: `Enter, ${label("next")}`,
    prev: `Shift+Enter, ${label("prev")}`,
  });
  const opener = buildOpener(`${label("find")}`);
  const row = app.querySelector(".doc-toolbar-row");
  // In the sticky toolbar row, so the bar hanging from it stays in sight.
  if (row) row.append(opener.slot, bar.root);
  else app.prepend(opener.slot, bar.root);

  /** @type {import("./search.js").Match[]} */
  let matches = [];
  let capped = false;
  let current = -1;
  /** The document position the current match is at (or searched from). */
  let anchor = 0;
  /** @type {string|null} the document's text, or null after a change */
  let text = null;
  /** @type {ReturnType<typeof setTimeout>|null} */
  let timer = null;
  /** @type {Element|null} where the focus goes back on close */
  let returnTo = null;
  let status = "";

  const isOpen = () => !bar.root.hidden;
  const settings = () => ({ matchCase: bar.matchCase.checked, wholeWord: bar.wholeWord.checked });

  /** Why replacing is not possible now, or "" when it is. */
  const refusal = () => {
    const { canEdit, canComment } = access();
    if (!canEdit && !canComment) return "You can view this document: find works, replace does not.";
    if (app.dataset.mode === "viewing") return "You are in Viewing mode: switch to Editing or Suggesting to replace.";
    if (!quill.isEnabled()) return "Replace works once the document is connected.";
    return "";
  };

  /**
   * Disable ``control`` or not; a focused control being disabled hands the
   * focus to the query (else it would fall to the page, out of the bar).
   * @param {HTMLButtonElement|HTMLInputElement} control
   * @param {boolean} off
   */
  function disable(control, off) {
    const focused = document.activeElement === control;
    control.disabled = off;
    if (off && focused) bar.query.focus();
  }

  function showReplaceState() {
    const why = refusal();
    disable(bar.replace, Boolean(why) || matches.length === 0);
    disable(bar.replaceAll, Boolean(why) || matches.length === 0);
    disable(bar.replacement, Boolean(why));
    const note = why && !bar.replaceRow.hidden ? why : status;
    bar.note.textContent = note;
    bar.note.hidden = !note;
  }

  function showCount() {
    bar.count.textContent = bar.query.value ? countLabel(current, matches.length, capped) : "";
    disable(bar.prev, matches.length === 0);
    disable(bar.next, matches.length === 0);
    bar.root.dataset.matches = String(matches.length);
    showReplaceState();
  }

  /**
   * Search again now.
   * @param {{scroll?: boolean}} [how]  scroll the current match into view
   */
  function search({ scroll = false } = {}) {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    // A "silent" change (the binding's surrogate fixes, a reload) tells
    // nobody: a length that moved means the cached text is stale too.
    if (text === null || text.length !== quill.getLength()) text = documentText(quill.getContents().ops);
    let found;
    try {
      found = findMatches(text, bar.query.value, settings());
      bar.query.removeAttribute("aria-invalid");
    } catch (error) {
      found = { matches: [], capped: false };
      bar.query.setAttribute("aria-invalid", "true");
      status = error instanceof Error ? error.message : String(error);
    }
    matches = found.matches;
    capped = found.capped;
    current = matchAtOrAfter(matches, anchor);
    draw(scroll);
  }

  /** @param {boolean} scroll */
  function draw(scroll) {
    if (isOpen() && bar.query.value) paint(quill, matches, current);
    else clear();
    showCount();
    if (scroll) reveal();
  }

  /** Search again after the document changed, later on a large one. */
  function schedule() {
    if (timer !== null) return;
    const size = text === null ? quill.getLength() : text.length;
    timer = setTimeout(() => search(), Math.min(MAX_SEARCH_DELAY, SEARCH_DELAY + size / 2000));
  }

  /** Scroll the current match into the part of the window the bar leaves. */
  function reveal() {
    const match = matches[current];
    if (!match) return;
    const range = rangeOf(quill, match);
    const rect = range?.getBoundingClientRect();
    if (!rect || (rect.width === 0 && rect.height === 0)) return;
    const top = Math.max(0, bar.root.getBoundingClientRect().bottom);
    const bottom = window.innerHeight;
    if (rect.top >= top && rect.bottom <= bottom) return;
    window.scrollBy({ top: rect.top - (top + (bottom - top) / 2), behavior: "auto" });
  }

  /** @param {1|-1} step */
  function go(step) {
    if (text === null || timer !== null) search();
    if (matches.length === 0) return;
    current = (current + step + matches.length) % matches.length;
    anchor = matches[current].index;
    status = "";
    draw(true);
  }

  /**
   * Open the bar (with the replace row when ``replace``), the query
   * focused and selected.
   * @param {{replace?: boolean}} [how]
   */
  function open({ replace = false } = {}) {
    const wasOpen = isOpen();
    if (!wasOpen) {
      returnTo = document.activeElement;
      const selection = quill.getSelection();
      anchor = selection ? selection.index : 0;
      if (selection && selection.length > 0 && selection.length <= MAX_SELECTION_QUERY) {
        const picked = quill.getText(selection.index, selection.length);
        if (!picked.includes("\n")) bar.query.value = picked;
      }
      text = null;
      status = "";
    }
    bar.root.hidden = false;
    opener.button.setAttribute("aria-expanded", "true");
    if (replace) showReplace(true);
    search({ scroll: !wasOpen && Boolean(bar.query.value) });
    bar.query.focus();
    bar.query.select();
  }

  /** Close the bar and give the focus back. */
  function close() {
    if (!isOpen()) return;
    bar.root.hidden = true;
    opener.button.setAttribute("aria-expanded", "false");
    if (timer !== null) clearTimeout(timer);
    timer = null;
    clear();
    const match = matches[current];
    const back = returnTo;
    returnTo = null;
    if (!back || back === document.body || quill.root.contains(back) || !(back instanceof HTMLElement)) {
      // Back to the document: at the current match, else where the caret was.
      if (match) quill.setSelection(match.index, match.length, "user");
      else quill.focus();
    } else if (back.isConnected) {
      back.focus();
    } else {
      quill.focus();
    }
  }

  /** @param {boolean} on */
  function showReplace(on) {
    bar.replaceRow.hidden = !on;
    bar.toggle.setAttribute("aria-expanded", String(on));
    bar.toggle.classList.toggle("is-open", on);
    const text = on ? "Hide replace" : `Show replace (${label("replace")})`;
    bar.toggle.title = text;
    bar.toggle.setAttribute("aria-label", text);
    showReplaceState();
  }

  /**
   * Replace ``targets`` with the replacement as one change of the
   * person's; return how many were replaced.
   * @param {import("./search.js").Match[]} targets
   */
  function replaceMatches(targets) {
    const why = refusal();
    if (why) {
      notices.show({ kind: "find", message: why, tone: "info" });
      return 0;
    }
    const { ops, count } = replaceOps(
      quill.getContents().ops,
      targets,
      bar.replacement.value,
      matcher(bar.query.value, settings()),
    );
    if (count === 0) return 0;
    const history = quill.history;
    // One undo step of its own: not joined to typing before or after.
    history?.cutoff();
    quill.updateContents(new Delta(ops), "user");
    history?.cutoff();
    return count;
  }

  /** Replace the current match and go to the next one. */
  function replaceOne() {
    search();
    const match = matches[current];
    if (!match) return;
    anchor = match.index;
    const count = replaceMatches([match]);
    // The text-change moved ``anchor`` past the new text: search from there.
    status = count ? "Replaced 1." : "";
    text = null;
    search({ scroll: true });
  }

  /** Replace every match, as one change. */
  function replaceAll() {
    search();
    const total = matches.length;
    const count = replaceMatches(matches);
    text = null;
    search();
    if (count > 0) {
      status = `Replaced ${count.toLocaleString("en-US")} of ${total.toLocaleString("en-US")}${capped ? "+" : ""}.`;
      if (count === 1) status = "Replaced 1.";
    }
    showReplaceState();
  }

  quill.on("text-change", (/** @type {any} */ delta) => {
    anchor = delta.transformPosition(anchor);
    text = null;
    if (isOpen()) schedule();
  });

  bar.query.addEventListener("input", () => {
    status = "";
    search({ scroll: true });
  });
  for (const box of [bar.matchCase, bar.wholeWord]) {
    box.addEventListener("change", () => {
      status = "";
      search({ scroll: true });
    });
  }
  bar.query.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing) return;
    event.preventDefault();
    go(event.shiftKey ? -1 : 1);
  });
  bar.replacement.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing) return;
    event.preventDefault();
    if (!bar.replace.disabled) replaceOne();
  });
  bar.root.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    event.preventDefault();
    event.stopPropagation();
    close();
  });
  bar.prev.addEventListener("click", () => go(-1));
  bar.next.addEventListener("click", () => go(1));
  bar.close.addEventListener("click", close);
  bar.toggle.addEventListener("click", () => showReplace(bar.replaceRow.hidden));
  bar.replace.addEventListener("click", replaceOne);
  bar.replaceAll.addEventListener("click", replaceAll);
  // Keep the editor's selection and focus: the button must not take them.
  opener.button.addEventListener("mousedown", (event) => event.preventDefault());
  opener.button.addEventListener("click", () => (isOpen() ? close() : open()));
  // The access, the mode or the connection changed: editor.js marks them
  // on the app element.
  new MutationObserver(() => showReplaceState()).observe(app, {
    attributes: true,
    attributeFilter: ["data-read-only", "data-mode", "data-connection"],
  });

  document.addEventListener("keydown", (event) => {
    const action = findAction(event, mac);
    if (!action) return;
    // A modal dialog (sharing, the shortcut help) keeps its keys.
    if (modalOpen()) return;
    if ((action === "next" || action === "prev") && !isOpen()) return;
    event.preventDefault();
    if (action === "find") open();
    else if (action === "replace") open({ replace: true });
    else go(action === "next" ? 1 : -1);
  });

  return {
    open,
    close,
    next: () => go(1),
    previous: () => go(-1),
    replaceOne,
    replaceAll,
    bar,
    get matches() {
      return matches;
    },
    get current() {
      return current;
    },
  };
}
