/**
 * The layout's block embeds: a horizontal rule (``divider``) and a page
 * break (``pagebreak``). Both are markers of the content schema
 * (realtime/ot/schema.json, kind ``marker``): no source, the value is
 * exactly ``true``, so ``{insert: {divider: true}}`` is the whole op.
 *
 * Each is a line of its own in Quill (a BlockEmbed): the caret stops before
 * and after it, Backspace removes it like one character. The page break
 * is drawn as a dashed rule labelled "Page break" on screen and starts a
 * new page in print (``break-after: page`` in layout.css); the server's
 * render (documents/render.py) draws the same ``<hr>`` and
 * ``<div class="page-break">``, so the first paint and exports match.
 *
 * @module editor/layout/blots
 */
import Quill from "quill";

const BlockEmbed = /** @type {any} */ (Quill.import("blots/block/embed"));

/** A horizontal rule: ``<hr>``. */
export class Divider extends BlockEmbed {
  static blotName = "divider";
  static tagName = "HR";

  /** @returns {true} a marker's only value */
  static value() {
    return true;
  }

  /** @returns {HTMLElement} */
  static create() {
    const node = super.create(true);
    node.setAttribute("contenteditable", "false");
    return node;
  }
}

/** A page break: ``<div class="page-break">`` (a new page when printed). */
export class PageBreak extends BlockEmbed {
  static blotName = "pagebreak";
  static tagName = "DIV";
  static className = "page-break";

  /** @returns {true} a marker's only value */
  static value() {
    return true;
  }

  /** @returns {HTMLElement} */
  static create() {
    const node = super.create(true);
    node.setAttribute("contenteditable", "false");
    node.setAttribute("role", "separator");
    node.setAttribute("aria-label", "Page break");
    node.dataset.label = "Page break";
    return node;
  }
}
