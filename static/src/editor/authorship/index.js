/**
 * Authorship in the editor (issue 14): who wrote each character, kept
 * current from the ops the client sees, and "Show authors".
 *
 * @module editor/authorship
 */

/**
 * Install authorship on the editor.
 * @param {{quill: any, app: HTMLElement, connection: any, client: any,
 *   me: {id: number, name: string}, docId: string}} context
 * @returns {object} what the browser tests and window.collabdocs.authorship reach
 */
export function installAuthorship(context) {
  return { context };
}
