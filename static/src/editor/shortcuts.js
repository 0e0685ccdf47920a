/**
 * The keyboard shortcut help (Ctrl+/) of the editor page (issue 16).
 *
 * @module editor/shortcuts
 */

/**
 * Install the shortcut help.
 * @param {{quill: any, app: HTMLElement}} options
 * @returns {object|null}
 */
export function installShortcuts(options) {
  void options;
  return null;
}
