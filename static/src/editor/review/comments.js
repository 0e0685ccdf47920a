/**
 * Comment threads in the margin beside their anchors (issue 12).
 *
 * Entry point called once by editor.js after the connection is made.
 * @param {{
 *   quill: any,
 *   app: HTMLElement,
 *   margin: HTMLElement,
 *   connection: any,
 *   binding: any,
 *   notices: any,
 *   me: {id: number, name: string},
 *   docId: string,
 *   access: () => {canEdit: boolean, canComment: boolean},
 * }} context
 */
export function installComments(context) {
  return context;
}
