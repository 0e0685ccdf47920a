/**
 * The keyboard shortcut help (Ctrl+/) of the editor page (issue 16).
 *
 * Ctrl+/ (Cmd+/ on a Mac) or the "?" button in the toolbar row opens a
 * modal ``<dialog>`` listing the editor's shortcuts by group. Escape or
 * "Close" closes it; the focus stays inside while it is open and goes back
 * to where it was after.
 *
 * The list is what the code does, read from it (keep both in step):
 * Quill's keyboard module (bold, italic, underline, Tab / Shift+Tab
 * indenting, list autofill, Enter on an empty item) and history (undo,
 * redo; Ctrl+Y on Windows only), the snow theme's link key, the mode
 * switch (review/modes.js ``modeForKey``), comments (review/comments.js,
 * compose-box.js, mentions.js), the undo of a decision on suggestions
 * (review/suggest-cards.js ``installUndoKey``), the table menu (layout
 * tables.js: Alt+F10), find and replace (find/keys.js) and the version
 * history panel (history.js: Escape). Keys the browser gives every text
 * field (copy, paste, select all) are listed where the editor relies on
 * them.
 *
 * @module editor/shortcuts
 */
import { FIND_KEYS, isMac, keyLabel, modalOpen } from "./find/keys.js";
import "./shortcuts.css";

/**
 * One shortcut: what it does and its keys, as alternatives (each a list
 * of keys for {@link keyLabel}), or a sentence for a typed pattern.
 * @typedef {{does: string, keys?: string[][], typed?: string, only?: "mac"|"other"|"windows"}} Shortcut
 * @typedef {{title: string, items: Shortcut[]}} Group
 */

/** The shortcut that opens this help. */
export const HELP_KEYS = ["Mod", "/"];

/**
 * Return the groups of shortcuts for a platform.
 * @param {{mac: boolean, windows: boolean}} platform
 * @returns {Group[]}
 */
export function shortcutGroups({ mac, windows }) {
  const find = (/** @type {keyof typeof FIND_KEYS} */ action) => FIND_KEYS[action][mac ? 1 : 0];
  /** @type {Group[]} */
  const groups = [
    {
      title: "Text formatting",
      items: [
        { does: "Bold", keys: [["Mod", "B"]] },
        { does: "Italic", keys: [["Mod", "I"]] },
        { does: "Underline", keys: [["Mod", "U"]] },
        { does: "Insert or edit a link", keys: [["Mod", "K"]] },
      ],
    },
    {
      title: "Paragraphs",
      items: [
        { does: "Indent a list item or quote (at its start)", keys: [["Tab"]] },
        { does: "Outdent it", keys: [["Shift", "Tab"]] },
        { does: "Numbered list", typed: "1. and Space, at a line's start" },
        { does: "Bulleted list", typed: "- or * and Space, at a line's start" },
        { does: "Checklist", typed: "[ ] and Space, at a line's start" },
        { does: "End a list or quote", typed: "Enter on an empty item" },
        { does: "Remove a line's list or indent", typed: "Backspace at its start" },
      ],
    },
    {
      title: "Editing",
      items: [
        { does: "Cut", keys: [["Mod", "X"]] },
        { does: "Copy", keys: [["Mod", "C"]] },
        { does: "Paste", keys: [["Mod", "V"]] },
        { does: "Paste without formatting", keys: [["Mod", "Shift", "V"]] },
        { does: "Select all", keys: [["Mod", "A"]] },
        { does: "Table menu (in a table)", keys: [["Alt", "F10"]] },
        { does: "Back to the text from it", keys: [["Escape"]] },
      ],
    },
    {
      title: "Find and replace",
      items: [
        { does: "Find", keys: [find("find")] },
        { does: "Find and replace", keys: [find("replace")] },
        { does: "Next match", keys: [["Enter"], find("next")] },
        { does: "Previous match", keys: [["Shift", "Enter"], find("prev")] },
        { does: "Close the find bar", keys: [["Escape"]] },
      ],
    },
    {
      title: "Review modes",
      items: [
        { does: "Editing", keys: [["Mod", "Alt", "Shift", "Z"]] },
        { does: "Suggesting", keys: [["Mod", "Alt", "Shift", "X"]] },
        { does: "Viewing", keys: [["Mod", "Alt", "Shift", "C"]] },
      ],
    },
    {
      title: "Comments",
      items: [
        { does: "Comment on the selected text", keys: [["Mod", "Alt", "M"]] },
        { does: "Send a comment or reply", keys: [["Mod", "Enter"]] },
        { does: "Cancel a comment or reply", keys: [["Escape"]] },
        { does: "Mention someone", typed: "@ and a name; ↑ ↓, then Enter" },
      ],
    },
    {
      title: "History",
      items: [
        { does: "Undo (a word, a run of deletes, a format or a paste at a time)", keys: [["Mod", "Z"]] },
        { does: "Redo", keys: [["Mod", "Shift", "Z"], ...(windows ? [["Mod", "Y"]] : [])] },
        { does: "Undo accepting or rejecting suggestions, right after", keys: [["Mod", "Z"]] },
        { does: "Close version history", keys: [["Escape"]] },
      ],
    },
    {
      title: "Help",
      items: [{ does: "Show these shortcuts", keys: [HELP_KEYS] }],
    },
  ];
  return groups;
}

/**
 * Return whether a key press asks for the help: Ctrl+/ (Cmd+/ on a Mac),
 * whatever Shift it takes to type "/" on the keyboard's layout.
 * @param {{key: string, code: string, ctrlKey: boolean, metaKey: boolean, altKey: boolean}} event
 * @param {boolean} mac
 */
export function isHelpKey(event, mac) {
  const mod = mac ? event.metaKey && !event.ctrlKey : event.ctrlKey && !event.metaKey;
  return mod && !event.altKey && (event.key === "/" || event.code === "Slash");
}

/**
 * Fill ``dialog`` with the groups.
 * @param {HTMLDialogElement} dialog
 * @param {Group[]} groups
 * @param {boolean} mac
 */
function render(dialog, groups, mac) {
  const head = document.createElement("div");
  head.className = "shortcuts-head";
  const title = document.createElement("h2");
  title.id = "shortcuts-title";
  title.textContent = "Keyboard shortcuts";
  const close = document.createElement("button");
  close.type = "button";
  close.className = "button button-small shortcuts-close";
  close.textContent = "Close";
  close.addEventListener("click", () => dialog.close());
  head.append(title, close);
  const body = document.createElement("div");
  body.className = "shortcuts-groups";
  for (const group of groups) {
    const section = document.createElement("section");
    section.className = "shortcuts-group";
    const heading = document.createElement("h3");
    heading.textContent = group.title;
    const list = document.createElement("dl");
    for (const item of group.items) {
      const term = document.createElement("dt");
      term.textContent = item.does;
      const keys = document.createElement("dd");
      if (item.keys) {
        item.keys.forEach((combo, i) => {
          if (i > 0) keys.append(" or ");
          const kbd = document.createElement("kbd");
          kbd.textContent = keyLabel(combo, mac);
          keys.append(kbd);
        });
      } else {
        keys.className = "shortcuts-typed";
        keys.textContent = item.typed ?? "";
      }
      list.append(term, keys);
    }
    section.append(heading, list);
    body.append(section);
  }
  dialog.replaceChildren(head, body);
}

/**
 * Install the shortcut help.
 * @param {{quill: any, app: HTMLElement}} options
 * @returns {object} what the browser tests and window.collabdocs.shortcuts reach
 */
export function installShortcuts(options) {
  const { quill, app } = options;
  const mac = isMac();
  const windows = /Win/i.test(globalThis.navigator?.platform || "");
  const dialog = document.createElement("dialog");
  dialog.className = "shortcuts-dialog";
  dialog.id = "shortcuts-dialog";
  dialog.setAttribute("aria-labelledby", "shortcuts-title");
  render(dialog, shortcutGroups({ mac, windows }), mac);
  document.body.append(dialog);

  const slot = document.createElement("div");
  slot.className = "doc-row-controls shortcuts-controls";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button button-quiet button-small shortcuts-open";
  button.textContent = "?";
  const label = `Keyboard shortcuts (${keyLabel(HELP_KEYS, mac)})`;
  button.title = label;
  button.setAttribute("aria-label", label);
  button.setAttribute("aria-haspopup", "dialog");
  slot.append(button);
  (app.querySelector(".doc-toolbar-row") ?? app).append(slot);

  /** @type {Element|null} */
  let returnTo = null;

  function open() {
    if (dialog.open) return;
    returnTo = document.activeElement;
    dialog.showModal();
    /** @type {HTMLElement|null} */ (dialog.querySelector(".shortcuts-close"))?.focus();
  }

  function close() {
    if (dialog.open) dialog.close();
  }

  dialog.addEventListener("close", () => {
    const back = returnTo;
    returnTo = null;
    if (back instanceof HTMLElement && back.isConnected && back !== document.body) {
      if (quill.root.contains(back)) quill.focus();
      else back.focus();
    }
  });
  // Keep Tab inside: from the last control to the first and back.
  dialog.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const controls = [...dialog.querySelectorAll("button, [href], input, [tabindex]:not([tabindex='-1'])")];
    const first = /** @type {HTMLElement|undefined} */ (controls[0]);
    const last = /** @type {HTMLElement|undefined} */ (controls[controls.length - 1]);
    if (!first || !last) return;
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });
  // A click on the backdrop (outside the box) closes it too.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) {
      const box = dialog.getBoundingClientRect();
      const inside =
        event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
      if (!inside) close();
    }
  });
  button.addEventListener("click", open);
  document.addEventListener("keydown", (event) => {
    if (!isHelpKey(event, mac)) return;
    if (!dialog.open && modalOpen()) return;
    event.preventDefault();
    if (dialog.open) close();
    else open();
  });

  return { open, close, dialog, button };
}
