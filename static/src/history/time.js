/**
 * Times in the history panel: every time the server sends is ISO 8601 with
 * an offset (UTC); the panel shows it in the viewer's time zone, short in
 * the text and in full, with the zone's name, in a ``title``.
 *
 * Pure: the zone and locale are parameters (the browser's by default), so
 * the node tests pin them.
 */

/**
 * @typedef {Object} ShownTime
 * @property {string} text   e.g. "Dec 6, 2026, 1:05 AM"
 * @property {string} title  e.g. "Sunday, December 6, 2026 at 1:05:09 AM UTC (UTC)"
 * @property {string} iso    the instant, for a ``<time datetime>``
 */

/**
 * Return how to show ``iso``, or null when it is missing or not a time.
 *
 * @param {string|null|undefined} iso
 * @param {{timeZone?: string, locale?: string}} [options]  the viewer's by default
 * @returns {ShownTime|null}
 */
export function showTime(iso, { timeZone, locale } = {}) {
  if (!iso) return null;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return null;
  const zone = timeZone || new Intl.DateTimeFormat().resolvedOptions().timeZone;
  const short = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", timeZone: zone });
  const full = new Intl.DateTimeFormat(locale, { dateStyle: "full", timeStyle: "long", timeZone: zone });
  return { text: short.format(date), title: `${full.format(date)} (${zone})`, iso: date.toISOString() };
}

/**
 * Return a ``<time>`` element for ``iso`` (empty text when it is not a time).
 *
 * @param {string|null|undefined} iso
 * @param {{timeZone?: string, locale?: string}} [options]
 * @returns {HTMLTimeElement}
 */
export function timeElement(iso, options) {
  const element = document.createElement("time");
  const shown = showTime(iso, options);
  if (shown) {
    element.dateTime = shown.iso;
    element.title = shown.title;
    element.textContent = shown.text;
  }
  return element;
}
