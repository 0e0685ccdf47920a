/**
 * Who is here: the people list in the header and the ink that reads on a
 * person's colour. Colours come from the server (documents/people.py), one
 * per person everywhere: cursors, this list, suggestions and authorship.
 *
 * @module editor/people-list
 */

/**
 * Return "#000" or "#fff", whichever reads better on ``background`` (a
 * "#rrggbb" colour); the palette has light colours such as "#fffac8".
 * @param {string} background
 */
export function readableOn(background) {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(background || "");
  if (!m) return "#fff";
  const [r, g, b] = m.slice(1).map((h) => {
    const c = parseInt(h, 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  // Contrast with black vs with white (WCAG): pick the larger.
  return (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) ? "#202124" : "#fff";
}

/**
 * Return the initials shown in a person's dot.
 * @param {string} name
 */
function initial(name) {
  const trimmed = (name || "?").trim();
  return (trimmed[0] || "?").toUpperCase();
}

/**
 * Render who is here into ``#people``: the person first, then everyone else
 * once per user (several tabs count once), each with their colour.
 *
 * @param {HTMLElement|null} element
 * @param {{id: number, name: string, color: string}|null} me
 * @param {Array<{session: string, user: {id: number, name: string, color: string}}>} peers
 */
export function renderPeople(element, me, peers) {
  if (!element) return;
  const people = [];
  const seen = new Set();
  if (me) {
    people.push({ ...me, you: true });
    seen.add(me.id);
  }
  for (const peer of peers) {
    const user = peer.user;
    if (!user || seen.has(user.id)) continue;
    seen.add(user.id);
    people.push({ ...user, you: false });
  }
  const items = people.map((person) => {
    const li = document.createElement("li");
    li.className = "cd-person";
    li.dataset.userId = String(person.id);
    const label = person.you ? `${person.name} (you)` : person.name;
    li.title = label;
    const dot = document.createElement("span");
    dot.className = "avatar cd-person-dot";
    dot.style.background = person.color;
    dot.style.color = readableOn(person.color);
    dot.textContent = initial(person.name);
    dot.setAttribute("aria-hidden", "true");
    const name = document.createElement("span");
    name.className = "cd-person-name";
    name.textContent = label;
    li.append(dot, name);
    return li;
  });
  element.replaceChildren(...items);
  element.dataset.count = String(people.length);
}

