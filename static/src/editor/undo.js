/**
 * Undo and redo: how typing is grouped into steps (issue 16: by word or
 * pause). ``registerUndo`` runs before Quill is made; ``historyOptions`` is
 * the history module's configuration.
 *
 * {@link WordHistory} is Quill's history module with one change: whether a
 * change joins the last undo step is decided by what the change is
 * (undo-steps.js: a word, a deletion run, a format, a paste), not by a
 * fixed window of time from the step's first keystroke, which cut words in
 * half. Everything else is Quill's: ``userOnly`` (the person's own changes
 * only; other people's transform the stacks), the keys (Ctrl/Cmd+Z,
 * Ctrl/Cmd+Shift+Z, Ctrl+Y on Windows), ``cutoff()``, ``maxStack``.
 *
 * Two callers steer grouping from outside, and both keep working:
 *
 * - ``cutoff()`` (Quill's keyboard around Tab and list autofill, find and
 *   replace around a replacement) ends the step: the next change starts
 *   a new one.
 * - Setting ``lastRecorded`` to a time (the binding does, right before it
 *   applies the correction that shows a change as a suggestion) makes the
 *   next change part of the step just recorded, as in Quill's own module,
 *   so one undo takes back the change as shown.
 *
 * @module editor/undo
 */
import Quill from "quill";
import History from "quill/modules/history.js";

import { CLOSED, describeEdit, moveGroup, nextStep } from "./undo-steps.js";

/** The longest pause (ms) between two keystrokes of one undo step. */
export const PAUSE_MS = 1000;

/** Undo steps kept (the oldest go first). */
const MAX_STACK = 500;

/**
 * Quill's history, grouping by word or pause (module docstring).
 */
export class WordHistory extends History {
  /**
   * @param {any} quill
   * @param {any} options
   */
  constructor(quill, options) {
    super(quill, options);
    /** @type {import("./undo-steps.js").Group} */
    this.group = CLOSED;
    /** Whether the next change joins the last step whatever it is. */
    this.joinNext = false;
    /** Whether the next change comes from a paste or a drop. */
    this.pasting = false;
    // Quill's class field is an own data property: replace it with an
    // accessor so that a write from outside means what it meant to Quill.
    Object.defineProperty(this, "lastRecorded", {
      configurable: true,
      get: () => (this.group.kind === "closed" ? 0 : this.group.time),
      set: (/** @type {number} */ time) => {
        if (time > 0) {
          // The change this announces is applied right away, in this task.
          this.joinNext = true;
          queueMicrotask(() => {
            this.joinNext = false;
          });
        } else {
          this.cutoff();
        }
      },
    });
    // Capturing on the editor: before the clipboard module's own handler,
    // which applies the paste synchronously.
    const mark = () => {
      this.pasting = true;
      setTimeout(() => {
        this.pasting = false;
      }, 0);
    };
    quill.root.addEventListener("paste", mark, true);
    quill.root.addEventListener("drop", mark, true);
  }

  /** End the step being built: the next change starts a new one. */
  cutoff() {
    this.group = CLOSED;
    this.joinNext = false;
  }

  /**
   * Record the person's ``changeDelta`` made to ``oldDelta``: push a new
   * undo step or fold it into the last one.
   * @param {any} changeDelta
   * @param {any} oldDelta
   */
  record(changeDelta, oldDelta) {
    if (changeDelta.ops.length === 0) return;
    this.stack.redo = [];
    let undoDelta = changeDelta.invert(oldDelta);
    let undoRange = this.currentRange;
    let merge;
    if (this.joinNext) {
      // A correction of the change just recorded: same step, same group.
      merge = true;
      this.joinNext = false;
    } else {
      const edit = this.pasting ? { kind: /** @type {const} */ ("other") } : describeEdit(changeDelta.ops, oldDelta.ops);
      this.pasting = false;
      const step = nextStep(this.group, edit, Date.now(), this.options.delay ?? PAUSE_MS);
      merge = step.merge;
      this.group = step.group;
    }
    const item = merge ? this.stack.undo.pop() : undefined;
    if (item) {
      undoDelta = undoDelta.compose(item.delta);
      undoRange = item.range;
    }
    if (undoDelta.length() === 0) return;
    this.stack.undo.push({ delta: undoDelta, range: undoRange });
    if (this.stack.undo.length > (this.options.maxStack ?? MAX_STACK)) this.stack.undo.shift();
  }

  /**
   * Transform the stacks over someone else's change, and the step being
   * built with them. When the change swallows the last step (it deleted
   * all that step typed), nothing may join the step before it.
   * @param {any} delta
   */
  transform(delta) {
    const before = this.stack.undo.length;
    super.transform(delta);
    if (this.stack.undo.length !== before) this.cutoff();
    else this.group = moveGroup(this.group, (index) => delta.transformPosition(index));
  }

  /** Undo the last step; whatever is typed next is a new one. */
  undo() {
    this.cutoff();
    super.undo();
  }

  /** Redo the last undone step; whatever is typed next is a new one. */
  redo() {
    this.cutoff();
    super.redo();
  }
}

/** Register the history module the editor uses: {@link WordHistory}. */
export function registerUndo() {
  Quill.register("modules/history", WordHistory, true);
}

/**
 * Return the history module's options: only the person's own changes;
 * ``delay`` is the pause that ends a step.
 */
export function historyOptions() {
  return { userOnly: true, delay: PAUSE_MS, maxStack: MAX_STACK };
}
