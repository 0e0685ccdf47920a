/**
 * Find and replace inside the document (issue 16).
 *
 * @module editor/find
 */

/**
 * Install find and replace on the editor page.
 * @param {{quill: any, app: HTMLElement, notices: any, access: () => {canEdit: boolean, canComment: boolean}}} options
 * @returns {object|null}
 */
export function installFind(options) {
  void options;
  return null;
}
