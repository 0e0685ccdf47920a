/**
 * Undo and redo: how typing is grouped into steps (issue 16: by word or
 * pause). ``registerUndo`` runs before Quill is made; ``historyOptions`` is
 * the history module's configuration.
 *
 * @module editor/undo
 */

/** Register the history module the editor uses (Quill's own, for now). */
export function registerUndo() {}

/** Return the history module's options: only the person's own changes. */
export function historyOptions() {
  return { userOnly: true, delay: 1000, maxStack: 500 };
}
