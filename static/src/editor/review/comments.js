/**
 * Comment threads in the margin beside their anchors (issue 12).
 *
 * Entry point called once by editor.js after the connection is made. It
 * makes the review margin (margin.js), which suggestion cards share, and
 * returns ``{margin}``.
 *
 * @module editor/review/comments
 */
import "./comments.css";

import { Margin } from "./margin.js";

/**
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
  const margin = new Margin(context.quill, context.margin);
  return { margin };
}
