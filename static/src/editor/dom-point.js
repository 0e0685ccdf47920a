/**
 * Quill positions as DOM positions, for painting ranges with the CSS Custom
 * Highlight API (authorship colours, find matches) without touching content.
 *
 * @module editor/dom-point
 */

/**
 * Return the DOM position of Quill index ``index``, or null.
 * @param {any} quill
 * @param {number} index
 * @returns {[Node, number]|null}
 */
export function domPoint(quill, index) {
  const [leaf, offset] = quill.getLeaf(index);
  if (!leaf) return null;
  const node = leaf.domNode;
  if (node.nodeType === Node.TEXT_NODE) return [node, Math.min(offset, node.textContent.length)];
  const parent = node.parentNode;
  if (!parent) return null;
  const at = Array.prototype.indexOf.call(parent.childNodes, node);
  return [parent, offset > 0 ? at + 1 : at];
}
