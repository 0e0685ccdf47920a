/**
 * "Insert file…" (issue 13): a DOCX, ODT, HTML or Markdown file converted
 * by the server and inserted at the cursor as the person's own change.
 *
 * @module editor/insert-file
 */

/**
 * Install the "Insert file…" control.
 * @param {{quill: any, app: HTMLElement, notices: any, docId: string,
 *   access: () => {canEdit: boolean, canComment: boolean}}} context
 * @returns {object} what the browser tests reach
 */
export function installInsertFile(context) {
  return { context };
}
