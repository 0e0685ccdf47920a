/**
 * The review marks (suggest-insert, suggest-delete, suggest-format,
 * comment: schema.js ``ANY_SCOPE_FORMATS``) registered with Quill so that
 * ``quill.getContents()`` equals the server's content for marks on text,
 * embeds AND line ends.
 *
 * Quill has no format that goes everywhere: an inline attributor is kept
 * by text and inline embeds but ``Block.formatAt`` skips the newline; a
 * block attributor is kept by the line and shows in the formats Quill
 * compares a remote insert with (``editor.applyDelta`` merges the line's
 * formats into the leaf's), so text typed into a marked line would lose
 * its own mark. So:
 *
 * - On text and inline embeds each mark is an inline attributor
 *   (``data-<name>`` on the wrapping inline element).
 * - On a line end (and a block embed such as a video) the mark is kept in
 *   ``data-line-<name>`` on the line's element, outside Quill's attributor
 *   store: ``Block.formatAt`` and ``BlockEmbed.format`` set it, ``delta()``
 *   adds it to the line's "\n" (or the embed), and it never appears in the
 *   line's ``formats()``.
 * - Splitting a line (Enter, a remote "\n") clones the element; the mark
 *   belongs to the original newline, which is the later of the two lines
 *   in Quill's split, so the earlier one drops it; ``applyDelta`` then sets
 *   the new newline's own marks, if any. Joining lines keeps the later
 *   line's element, as the delta keeps the later newline. A line that
 *   changes kind (paragraph to heading) is a new element: the marks move
 *   to it (``replaceWith``).
 *
 * Install once, before the first Quill is made ({@link registerReviewMarks}).
 *
 * @module editor/review/suggest-blots
 */
import Quill from "quill";
import Block, { BlockEmbed } from "quill/blots/block.js";

import { ANY_SCOPE_FORMATS } from "../schema.js";

const { Attributor, Scope, ParentBlot } = /** @type {any} */ (Quill.import("parchment"));

/** The DOM attribute holding a line end's (or block embed's) mark. */
export const lineAttribute = (name) => `data-line-${name}`;

let installed = false;

/**
 * Register the marks and patch Quill's block blots (idempotent).
 * @param {readonly string[]} [names]  the review mark formats
 */
export function registerReviewMarks(names = ANY_SCOPE_FORMATS) {
  if (installed) return;
  installed = true;
  const marks = new Set(names);
  for (const name of names) {
    Quill.register(`formats/${name}`, new Attributor(name, `data-${name}`, { scope: Scope.INLINE }), true);
  }

  /** Return the line-end marks of ``blot`` as attributes. */
  const lineMarks = (blot) => {
    /** @type {Record<string, string>} */
    const out = {};
    for (const name of marks) {
      const value = blot.domNode.getAttribute(lineAttribute(name));
      if (value) out[name] = value;
    }
    return out;
  };
  const setLineMark = (blot, name, value) => {
    if (value) blot.domNode.setAttribute(lineAttribute(name), value);
    else blot.domNode.removeAttribute(lineAttribute(name));
  };
  const dropLineMarks = (blot) => {
    for (const name of marks) blot.domNode.removeAttribute(lineAttribute(name));
  };

  const proto = /** @type {any} */ (Block).prototype;
  const blockFormatAt = proto.formatAt;
  /** @this {any} */
  proto.formatAt = function formatAt(index, length, name, value) {
    if (!marks.has(name)) return blockFormatAt.call(this, index, length, name, value);
    if (length <= 0) return;
    const text = Math.min(length, this.length() - index - 1);
    // The text of the line, as Quill's own inline formats.
    if (text > 0) ParentBlot.prototype.formatAt.call(this, index, text, name, value);
    if (index + length >= this.length()) setLineMark(this, name, value);
    this.cache = {};
  };
  const blockDelta = proto.delta;
  /** @this {any} */
  proto.delta = function delta() {
    if (this.cache.delta != null) return this.cache.delta;
    const base = blockDelta.call(this);
    const own = lineMarks(this);
    if (!Object.keys(own).length) return base;
    // The last op may hold text too ("x\n" when both are unformatted).
    const line = base.length();
    const formats = base.ops[base.ops.length - 1].attributes || {};
    this.cache.delta = base.slice(0, line - 1).insert("\n", { ...formats, ...own });
    return this.cache.delta;
  };
  const blockSplit = proto.split;
  /** @this {any} */
  proto.split = function split(index, force = false) {
    const [prev, next] = [this.prev, this.next];
    const result = blockSplit.call(this, index, force);
    // A clone holds the later newline's content only when one was made:
    // after this line (the usual case) or, split at 0, before it.
    if (this.prev !== prev && this.prev instanceof Block) dropLineMarks(this.prev);
    else if (this.next !== next) dropLineMarks(this);
    if (this.next) this.next.cache = {};
    if (this.prev) this.prev.cache = {};
    this.cache = {};
    return result;
  };

  const blockReplaceWith = proto.replaceWith;
  /** @this {any} */
  proto.replaceWith = function replaceWith(name, value) {
    // A paragraph becoming a heading is a new element: the line end's
    // marks go with it, as Quill's attributor store does for its formats.
    const replacement = blockReplaceWith.call(this, name, value);
    if (replacement && replacement !== this && replacement.domNode instanceof Element) {
      for (const [mark, markValue] of Object.entries(lineMarks(this))) setLineMark(replacement, mark, markValue);
      replacement.cache = {};
    }
    return replacement;
  };

  // Quill keeps a code block's text plain (no inline blots); a review mark
  // on it must show, as on any text.
  const codeBlock = /** @type {any} */ (Quill.import("formats/code-block"));
  const inline = Quill.import("blots/inline");
  if (codeBlock && !codeBlock.allowedChildren.includes(inline)) {
    codeBlock.allowedChildren = [...codeBlock.allowedChildren, inline];
  }

  const embedProto = /** @type {any} */ (BlockEmbed).prototype;
  const embedFormat = embedProto.format;
  /** @this {any} */
  embedProto.format = function format(name, value) {
    if (marks.has(name)) setLineMark(this, name, value);
    else embedFormat.call(this, name, value);
  };
  const embedDelta = embedProto.delta;
  /** @this {any} */
  embedProto.delta = function delta() {
    const base = embedDelta.call(this);
    const own = lineMarks(this);
    if (!Object.keys(own).length) return base;
    const [op] = base.ops;
    return new base.constructor([{ ...op, attributes: { ...(op.attributes || {}), ...own } }]);
  };
}
