/**
 * Tables in the editor, on Quill 2's table module (quill/modules/table.js,
 * quill/formats/table.js): a table is content like any other, each cell a
 * line whose newline carries ``table: "row-<id>"`` (docs/schema.md
 * "Tables"), so concurrent edits converge through the same OT as text.
 *
 * - {@link tableDelta}: the change that inserts an empty rows × columns
 *   table after the line at ``index`` (pure; tests/js/layout_tables.test.mjs);
 * - {@link TablePicker}: the toolbar button's popover, a grid to choose the
 *   size (keyboard: arrows, Enter; 3 × 3 preselected);
 * - {@link TableMenu}: the small menu above the table the cursor is in:
 *   a row above/below, a column left/right, delete the row, the column or
 *   the table. Each is one change of the person's (Quill's ``user`` source).
 *
 * @module editor/layout/tables
 */
import Delta from "quill-delta";

/** The largest table the picker offers. */
export const PICKER_ROWS = 8;
export const PICKER_COLUMNS = 8;

/** A fresh row id as Quill makes them (``row-`` and 4 of a-z0-9; the schema allows 1-16). */
export function rowId() {
  const bytes = new Uint8Array(6);
  crypto.getRandomValues(bytes);
  return `row-${[...bytes].map((b) => (b % 36).toString(36)).join("")}`;
}

/**
 * Return the change inserting an empty ``rows`` × ``columns`` table, and the
 * index of its first cell.
 *
 * The table goes at the start of the line after the one at ``lineStart``
 * (``lineLength`` units, its newline included), or in place of that line
 * when it is empty, so no text of the line ends up in a cell. On the last
 * line of the document (``atEnd``) the line is ended first with its own
 * block formats (``lineFormats``), and the document's final newline, which
 * then follows the table, loses them: the text after a table is a plain
 * paragraph.
 *
 * @param {{lineStart: number, lineLength: number, atEnd: boolean,
 *   lineFormats?: Record<string, unknown>, rows: number, columns: number,
 *   ids?: () => string}} where
 * @returns {{change: Delta, firstCell: number}}
 */
export function tableDelta({ lineStart, lineLength, atEnd, lineFormats = {}, rows, columns, ids = rowId }) {
  if (!Number.isInteger(rows) || !Number.isInteger(columns) || rows < 1 || columns < 1) {
    throw new RangeError(`a table needs at least one row and one column, got ${rows} × ${columns}`);
  }
  const cells = new Delta();
  for (let r = 0; r < rows; r += 1) cells.insert("\n".repeat(columns), { table: ids() });
  if (lineLength <= 1) {
    return { change: new Delta().retain(lineStart).concat(cells), firstCell: lineStart };
  }
  if (!atEnd) {
    const at = lineStart + lineLength;
    return { change: new Delta().retain(at).concat(cells), firstCell: at };
  }
  const end = lineStart + lineLength - 1; // before the final newline
  const formats = Object.keys(lineFormats).length ? lineFormats : undefined;
  const cleared = formats ? Object.fromEntries(Object.keys(formats).map((name) => [name, null])) : undefined;
  const change = new Delta().retain(end).insert("\n", formats).concat(cells);
  if (cleared) change.retain(1, cleared);
  return { change, firstCell: end + 1 };
}

/**
 * Insert a ``rows`` × ``columns`` table after the line holding the
 * selection (not inside a table: tables do not nest).
 * @param {any} quill
 * @param {number} rows
 * @param {number} columns
 * @returns {boolean} whether a table was inserted
 */
export function insertTable(quill, rows, columns) {
  const range = quill.getSelection(true);
  if (!range) return false;
  const [line, offset] = quill.getLine(range.index);
  if (!line || line.statics.blotName === "table") return false;
  const lineStart = range.index - offset;
  const lineLength = line.length();
  const blockFormats = typeof line.formats === "function" ? { ...line.formats() } : {};
  const { change, firstCell } = tableDelta({
    lineStart,
    lineLength,
    atEnd: lineStart + lineLength >= quill.getLength(),
    lineFormats: blockFormats,
    rows,
    columns,
  });
  quill.updateContents(change, "user");
  quill.setSelection(firstCell, 0, "user");
  return true;
}

/** Whether the selection is in a table cell; the table module's [table, row, cell, offset]. */
export function tableAt(quill, range = quill.getSelection()) {
  const module = quill.getModule("table");
  if (!module || !range) return [null, null, null, -1];
  return module.getTable(range);
}

/**
 * The toolbar's table popover: a grid to pick the size.
 */
export class TablePicker {
  /**
   * @param {{onPick: (rows: number, columns: number) => void}} options
   */
  constructor({ onPick }) {
    this.onPick = onPick;
    this.rows = 3;
    this.columns = 3;
    /** @type {HTMLElement|null} the button it was opened from */
    this.anchor = null;
    const root = document.createElement("div");
    root.className = "table-picker";
    root.hidden = true;
    root.setAttribute("role", "dialog");
    root.setAttribute("aria-label", "Insert a table");
    this.grid = document.createElement("div");
    this.grid.className = "table-picker-grid";
    this.grid.setAttribute("role", "grid");
    this.grid.tabIndex = 0;
    this.grid.style.gridTemplateColumns = `repeat(${PICKER_COLUMNS}, 18px)`;
    for (let r = 1; r <= PICKER_ROWS; r += 1) {
      for (let c = 1; c <= PICKER_COLUMNS; c += 1) {
        const cell = document.createElement("button");
        cell.type = "button";
        cell.tabIndex = -1;
        cell.className = "table-picker-cell";
        cell.dataset.rows = String(r);
        cell.dataset.columns = String(c);
        cell.setAttribute("aria-label", `${r} × ${c} table`);
        this.grid.append(cell);
      }
    }
    this.label = document.createElement("div");
    this.label.className = "table-picker-label";
    this.label.setAttribute("aria-live", "polite");
    root.append(this.grid, this.label);
    this.root = root;
    document.body.append(root);

    this.grid.addEventListener("mouseover", (event) => {
      const cell = event.target instanceof HTMLElement ? event.target.closest(".table-picker-cell") : null;
      if (cell instanceof HTMLElement) this.choose(Number(cell.dataset.rows), Number(cell.dataset.columns));
    });
    this.grid.addEventListener("click", (event) => {
      const cell = event.target instanceof HTMLElement ? event.target.closest(".table-picker-cell") : null;
      if (cell instanceof HTMLElement) this.pick(Number(cell.dataset.rows), Number(cell.dataset.columns));
    });
    this.grid.addEventListener("keydown", (event) => this.onKey(event));
    this.outside = (/** @type {Event} */ event) => {
      const target = event.target;
      if (target instanceof Node && (this.root.contains(target) || this.anchor?.contains(target))) return;
      this.close();
    };
    this.choose(3, 3);
  }

  get isOpen() {
    return !this.root.hidden;
  }

  /** Highlight ``rows`` × ``columns``. */
  choose(rows, columns) {
    this.rows = Math.min(Math.max(rows, 1), PICKER_ROWS);
    this.columns = Math.min(Math.max(columns, 1), PICKER_COLUMNS);
    for (const cell of this.grid.children) {
      if (!(cell instanceof HTMLElement)) continue;
      const on = Number(cell.dataset.rows) <= this.rows && Number(cell.dataset.columns) <= this.columns;
      cell.classList.toggle("is-chosen", on);
    }
    this.label.textContent = `${this.rows} × ${this.columns} table`;
  }

  /** @param {KeyboardEvent} event */
  onKey(event) {
    const moves = { ArrowRight: [0, 1], ArrowLeft: [0, -1], ArrowDown: [1, 0], ArrowUp: [-1, 0] };
    if (event.key in moves) {
      const [dr, dc] = moves[event.key];
      this.choose(this.rows + dr, this.columns + dc);
    } else if (event.key === "Enter" || event.key === " ") {
      this.pick(this.rows, this.columns);
    } else if (event.key === "Escape") {
      this.close();
      this.anchor?.focus();
    } else return;
    event.preventDefault();
  }

  pick(rows, columns) {
    this.close();
    this.onPick(rows, columns);
  }

  /** Open below ``anchor`` (the toolbar button). */
  open(anchor) {
    this.anchor = anchor;
    const rect = anchor.getBoundingClientRect();
    this.root.style.left = `${Math.round(rect.left + window.scrollX)}px`;
    this.root.style.top = `${Math.round(rect.bottom + window.scrollY + 4)}px`;
    this.root.hidden = false;
    anchor.setAttribute("aria-expanded", "true");
    this.choose(3, 3);
    this.grid.focus();
    document.addEventListener("mousedown", this.outside, true);
  }

  close() {
    if (this.root.hidden) return;
    this.root.hidden = true;
    this.anchor?.setAttribute("aria-expanded", "false");
    document.removeEventListener("mousedown", this.outside, true);
  }

  toggle(anchor) {
    if (this.isOpen) this.close();
    else this.open(anchor);
  }
}

/** The table menu's actions: [name, label, table module method]. */
export const TABLE_ACTIONS = [
  ["row-above", "Insert row above", "insertRowAbove"],
  ["row-below", "Insert row below", "insertRowBelow"],
  ["column-left", "Insert column left", "insertColumnLeft"],
  ["column-right", "Insert column right", "insertColumnRight"],
  ["delete-row", "Delete row", "deleteRow"],
  ["delete-column", "Delete column", "deleteColumn"],
  ["delete-table", "Delete table", "deleteTable"],
];

const ACTION_TEXT = {
  "row-above": "+ Row above",
  "row-below": "+ Row below",
  "column-left": "+ Col left",
  "column-right": "+ Col right",
  "delete-row": "− Row",
  "delete-column": "− Col",
  "delete-table": "Delete table",
};

/**
 * The menu shown above the table holding the cursor, while the editor is
 * editable.
 */
export class TableMenu {
  /** @param {any} quill */
  constructor(quill) {
    this.quill = quill;
    const root = quill.addContainer("table-menu");
    root.hidden = true;
    root.setAttribute("role", "toolbar");
    root.setAttribute("aria-label", "Table");
    for (const [name, label] of TABLE_ACTIONS) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = `table-menu-${name}`;
      button.dataset.action = name;
      button.title = label;
      button.setAttribute("aria-label", label);
      button.textContent = ACTION_TEXT[name];
      root.append(button);
    }
    this.root = root;
    // Keep the editor's selection: a mousedown on a button would blur it.
    root.addEventListener("mousedown", (event) => event.preventDefault());
    root.addEventListener("click", (event) => {
      const button = event.target instanceof Element ? event.target.closest("button[data-action]") : null;
      if (button instanceof HTMLButtonElement) this.run(button.dataset.action || "");
    });
    // Keyboard: Alt+F10 in a table reaches the menu (as for an editor's
    // toolbar), arrows move along it, Escape goes back to the text.
    quill.root.addEventListener("keydown", (/** @type {KeyboardEvent} */ event) => {
      if (event.key !== "F10" || !event.altKey || this.root.hidden) return;
      event.preventDefault();
      this.buttons()[0]?.focus();
    });
    root.addEventListener("keydown", (event) => {
      const buttons = this.buttons();
      const at = buttons.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
      if (event.key === "Escape") this.quill.focus();
      else if (event.key === "ArrowRight") buttons[(at + 1) % buttons.length]?.focus();
      else if (event.key === "ArrowLeft") buttons[(at - 1 + buttons.length) % buttons.length]?.focus();
      else return;
      event.preventDefault();
    });
    /** @type {any} the table blot shown for */
    this.table = null;
  }

  /**
   * Run one action on the table at the selection.
   * @param {string} name  one of {@link TABLE_ACTIONS}' names
   * @returns {boolean} whether it ran
   */
  run(name) {
    const action = TABLE_ACTIONS.find(([n]) => n === name);
    // From the keyboard the menu has the focus: give it back to the text
    // (Quill restores the selection), where the table module acts.
    if (!this.quill.hasFocus()) this.quill.focus();
    const [table] = tableAt(this.quill);
    if (!action || !table || !this.quill.isEnabled()) return false;
    this.quill.getModule("table")[action[2]]();
    this.update();
    return true;
  }

  /** @returns {HTMLButtonElement[]} */
  buttons() {
    return [...this.root.querySelectorAll("button")];
  }

  /** Show the menu above the selection's table, or hide it. */
  update(range = this.quill.getSelection()) {
    // Focus moved into the menu (Alt+F10): the editor lost its selection, not its table.
    if (!range && this.root.contains(document.activeElement)) return;
    const [table] = range && this.quill.isEnabled() ? tableAt(this.quill, range) : [null];
    this.table = table;
    if (!table) {
      this.root.hidden = true;
      return;
    }
    this.root.hidden = false;
    const container = this.quill.container.getBoundingClientRect();
    const box = table.domNode.getBoundingClientRect();
    // In the space layout.css keeps above every table.
    const top = box.top - container.top - this.root.offsetHeight - 3;
    this.root.style.top = `${Math.round(top)}px`;
    this.root.style.left = `${Math.round(box.left - container.left)}px`;
  }
}
