/**
 * Layout in the editor (issue 13): tables, alignment, indentation, fonts and
 * sizes, horizontal rules and page breaks, the page view, word count and the
 * outline.
 *
 * @module editor/layout
 */

/** Register the layout blots and modules with Quill, before the editor is made. */
export function registerLayout() {}

/**
 * Return the Quill modules the layout needs, merged into the editor's options.
 * @returns {Record<string, unknown>}
 */
export function layoutModules() {
  return {};
}

/**
 * Install the layout controls (page view, word count, outline) on the editor.
 * @param {{quill: any, app: HTMLElement, toolbar: HTMLElement, notices: any}} context
 * @returns {object} what the browser tests and window.collabdocs.layout reach
 */
export function installLayout(context) {
  return { context };
}
