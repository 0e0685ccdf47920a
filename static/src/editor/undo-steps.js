/**
 * What one undo step is, as a pure decision (undo.js applies it to Quill's
 * history). No DOM, no Quill: the node tests import it directly.
 *
 * The rule people expect from a word processor:
 *
 * - Typing is grouped by word: a step is one word with the spaces and
 *   punctuation typed after it ("hello " / "world " / "again"), or what
 *   was typed before a pause, whichever ends first. The boundary is the
 *   first word character typed after a word and a non-word character.
 * - A run of Backspace / Delete presses (one character each, next to each
 *   other, without a pause) is one step of its own; deleting a selection
 *   or a word at once is a step on its own.
 * - Formatting is a step of its own, and so is a paste or drop and any
 *   other change that is not plain typing (an embed, a table, a list made
 *   by typing "1. ", a replace-all).
 * - Typing over a selection starts a new step that the following keys of
 *   the same word continue.
 *
 * Anything that does not fit the patterns above is its own step: a wrong
 * guess makes the steps finer, never merges unrelated changes.
 *
 * @module editor/undo-steps
 */

/**
 * A change described for grouping.
 * @typedef {{kind: "insert", index: number, text: string}
 *   | {kind: "replace", index: number, text: string}
 *   | {kind: "delete", index: number, length: number, single: boolean}
 *   | {kind: "format"}
 *   | {kind: "other"}} Edit
 */

/**
 * The step being built: where the next keystroke of it would land.
 * ``typing``: ``at`` is the index after the text typed so far, ``word``
 * whether it holds a word character, ``after`` whether it ends in a
 * non-word character after that word (the next word starts a new step).
 * ``deleting``: ``at`` is the caret after the last deletion.
 * @typedef {{kind: "typing", at: number, word: boolean, after: boolean, time: number}
 *   | {kind: "deleting", at: number, time: number}
 *   | {kind: "closed"}} Group
 */

/** @type {Group} */
export const CLOSED = Object.freeze({ kind: "closed" });

/**
 * Letters, digits and combining marks of any script, the underscore and
 * apostrophes ("don't" is one word).
 */
const WORD = /[\p{L}\p{N}\p{M}_'\u2019]/u;

/**
 * Return whether ``ch`` (one code point) belongs to a word.
 * @param {string} ch
 */
export function isWordChar(ch) {
  return WORD.test(ch);
}

/**
 * Return whether ``text`` is one user-perceived character (an emoji with
 * its modifiers, a letter with its accents).
 * @param {string} text
 */
export function isOneCharacter(text) {
  if (text.length === 0) return false;
  if (text.length === 1) return true;
  if (typeof Intl !== "undefined" && typeof Intl.Segmenter === "function") {
    const segments = new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text);
    return segments.containing(0)?.segment.length === text.length;
  }
  return [...text].length === 1;
}

/**
 * Return the text of ``doc`` (ops of a document delta) from ``index`` for
 * ``length``; an embed is U+FFFC.
 * @param {Array<{insert?: unknown}>} ops
 * @param {number} index
 * @param {number} length
 */
function textAt(ops, index, length) {
  let pos = 0;
  let out = "";
  const end = index + length;
  for (const op of ops) {
    if (pos >= end) break;
    const piece = typeof op.insert === "string" ? op.insert : "\uFFFC";
    const next = pos + piece.length;
    if (next > index) out += piece.slice(Math.max(0, index - pos), end - pos);
    pos = next;
  }
  return out;
}

/**
 * Describe ``change`` (a Quill delta's ops) made to ``old`` (the document's
 * ops before it) for grouping.
 * @param {Array<{insert?: unknown, delete?: number, retain?: unknown, attributes?: object}>} change
 * @param {Array<{insert?: unknown}>} old
 * @returns {Edit}
 */
export function describeEdit(change, old) {
  const ops = [...change];
  // A trailing plain retain changes nothing (quill-delta chops it; be safe).
  while (ops.length) {
    const last = ops[ops.length - 1];
    if (typeof last.retain === "number" && !last.attributes) ops.pop();
    else break;
  }
  let index = 0;
  if (ops.length && typeof ops[0].retain === "number" && !ops[0].attributes) {
    index = ops[0].retain;
    ops.shift();
  }
  if (ops.length === 0) return { kind: "other" };
  if (ops.every((op) => op.retain !== undefined)) {
    return ops.some((op) => op.attributes) ? { kind: "format" } : { kind: "other" };
  }
  const inserts = ops.filter((op) => op.insert !== undefined);
  const deletes = ops.filter((op) => op.delete !== undefined);
  if (inserts.length + deletes.length !== ops.length || inserts.length > 1 || deletes.length > 1) {
    return { kind: "other" };
  }
  const insert = inserts[0];
  if (insert && typeof insert.insert !== "string") return { kind: "other" };
  const text = insert ? /** @type {string} */ (insert.insert) : "";
  if (insert && deletes.length) return { kind: "replace", index, text };
  if (insert) return { kind: "insert", index, text };
  const length = /** @type {number} */ (deletes[0].delete);
  return { kind: "delete", index, length, single: isOneCharacter(textAt(old, index, length)) };
}

/**
 * Return the group state after typing ``text`` at ``index`` on top of
 * ``group`` (a fresh group when ``group`` is null).
 * @param {{word: boolean}|null} group
 * @param {number} index
 * @param {string} text
 * @param {number} time
 * @returns {Group}
 */
function typed(group, index, text, time) {
  const chars = [...text];
  const word = (group?.word ?? false) || chars.some(isWordChar);
  const last = chars[chars.length - 1];
  return { kind: "typing", at: index + text.length, word, after: word && !isWordChar(last ?? ""), time };
}

/**
 * Decide whether ``edit``, made at ``time`` (ms), joins the step being
 * built (``group``); return that and the group after it.
 *
 * ``pause`` is the longest gap (ms) between two keystrokes of one step.
 * @param {Group} group
 * @param {Edit} edit
 * @param {number} time
 * @param {number} pause
 * @returns {{merge: boolean, group: Group}}
 */
export function nextStep(group, edit, time, pause) {
  const recent = group.kind !== "closed" && time - group.time <= pause;
  switch (edit.kind) {
    case "insert": {
      const first = [...edit.text][0] ?? "";
      const merge =
        recent &&
        group.kind === "typing" &&
        edit.index === group.at &&
        !(group.after && isWordChar(first)) &&
        edit.text.length > 0;
      return { merge, group: typed(merge && group.kind === "typing" ? group : null, edit.index, edit.text, time) };
    }
    case "replace":
      return { merge: false, group: typed(null, edit.index, edit.text, time) };
    case "delete": {
      if (!edit.single) return { merge: false, group: CLOSED };
      // Backspace ends where the last deletion was; Delete starts there.
      const merge =
        recent &&
        group.kind === "deleting" &&
        (edit.index + edit.length === group.at || edit.index === group.at);
      return { merge, group: { kind: "deleting", at: edit.index, time } };
    }
    default:
      return { merge: false, group: CLOSED };
  }
}

/**
 * Move ``group``'s position over someone else's change (``transform``
 * is the change's ``transformPosition``), so the person's next keystroke
 * still continues the step.
 * @param {Group} group
 * @param {(index: number) => number} transform
 * @returns {Group}
 */
export function moveGroup(group, transform) {
  if (group.kind === "closed") return group;
  return { ...group, at: transform(group.at) };
}
