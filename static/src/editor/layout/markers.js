/**
 * Where a horizontal rule or a page break goes, as a change the server
 * takes (pure; tests/js/layout_tables.test.mjs).
 *
 * Quill's own ``insertEmbed`` of a block embed at the end of the last line
 * diffs into an insert *after* the document's final newline, which the
 * protocol refuses (``bad_op``: "inserts after the final newline"). The
 * change is therefore made here, always before the final newline:
 *
 * - at the start of a line: the marker goes before the line;
 * - elsewhere: the line is ended at the cursor (its new line end carrying
 *   the line's block formats, as Enter does) and the marker follows; at the
 *   end of a line the now empty rest keeps no block formats (no empty
 *   heading after a rule).
 *
 * @module editor/layout/markers
 */
import Delta from "quill-delta";

/**
 * @param {{name: string, index: number, lineStart: number, lineLength: number,
 *   lineFormats?: Record<string, unknown>}} where
 * @returns {{change: Delta, cursor: number}} the change and where the cursor goes
 */
export function markerChange({ name, index, lineStart, lineLength, lineFormats = {} }) {
  const marker = { [name]: true };
  const offset = index - lineStart;
  if (offset < 0 || offset >= lineLength) throw new RangeError(`index ${index} is not on the line`);
  if (offset === 0) {
    return { change: new Delta().retain(index).insert(marker), cursor: index + 1 };
  }
  const formats = Object.keys(lineFormats).length ? lineFormats : undefined;
  const change = new Delta().retain(index).insert("\n", formats).insert(marker);
  if (formats && offset === lineLength - 1) {
    change.retain(1, Object.fromEntries(Object.keys(formats).map((key) => [key, null])));
  }
  return { change, cursor: index + 2 };
}
