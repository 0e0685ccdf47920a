/**
 * One colour per person: the colour the server sent for them
 * (documents/people.py ``user_color``), remembered for the page.
 *
 * The client never picks a person's colour itself. It learns them from
 * what the server sends: ``hello.user`` (the person), ``hello.peers``,
 * ``join`` and ``presence`` (others here), and the authors API (people who
 * are not here). Until a person's colour has arrived, they are drawn in
 * {@link UNKNOWN_COLOR}, a neutral grey, and redrawn once it does.
 *
 * Failure modes: a colour that is not ``#rrggbb`` (or is the grey
 * stand-in itself) or an id that is not a positive integer is ignored (the
 * person stays grey); a listener that throws does not stop the others.
 *
 * @module editor/colors
 */

const HEX = /^#[0-9a-f]{6}$/i;

/** The colour of someone whose colour has not arrived: neutral, AA on white. */
export const UNKNOWN_COLOR = "#5f6368";

export class PeopleColors {
  constructor() {
    /** @type {Map<number, string>} */
    this.byId = new Map();
    /** @type {Set<(id: number, color: string) => void>} */
    this.listeners = new Set();
  }

  /**
   * Remember a person's colour as the server sent it.
   * @param {{id?: unknown, color?: unknown}|null|undefined} person
   * @returns {boolean} whether it was new or changed
   */
  learn(person) {
    const id = person?.id;
    const color = person?.color;
    if (!Number.isSafeInteger(id) || /** @type {number} */ (id) <= 0) return false;
    if (typeof color !== "string" || !HEX.test(color)) return false;
    const key = /** @type {number} */ (id);
    const value = color.toLowerCase();
    // The stand-in is never a server colour (the palette test checks): a
    // page's own guess (``pageUser`` before hello) is not learned.
    if (value === UNKNOWN_COLOR) return false;
    if (this.byId.get(key) === value) return false;
    this.byId.set(key, value);
    for (const listener of this.listeners) {
      try {
        listener(key, value);
      } catch (err) {
        console.error("collabdocs: colour listener failed", err);
      }
    }
    return true;
  }

  /**
   * Return the server's colour for ``id``, or null while it is unknown.
   * @param {number|null|undefined} id
   * @returns {string|null}
   */
  get(id) {
    return (typeof id === "number" && this.byId.get(id)) || null;
  }

  /**
   * Return the colour to draw ``id`` in now (grey until known).
   * @param {number|null|undefined} id
   */
  draw(id) {
    return this.get(id) ?? UNKNOWN_COLOR;
  }

  /**
   * Call ``listener(id, color)`` for every colour learned from now on.
   * @param {(id: number, color: string) => void} listener
   * @returns {() => void} stops listening
   */
  onLearn(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The page's colours: one registry shared by every part of the editor. */
export const peopleColors = new PeopleColors();
