/**
 * The keys of find and replace, as data (the shortcut help lists them from
 * here) and as a decision on a key press, and how keys are written. Pure
 * (node-tested) but for {@link modalOpen}.
 *
 * "Mod" is Ctrl, or Cmd on a Mac. Replace is Ctrl+H, but Cmd+Shift+H on a
 * Mac, where Cmd+H hides the browser (as in Google Docs).
 *
 * @module editor/find/keys
 */

/** @typedef {"find"|"replace"|"next"|"prev"} FindAction */

/**
 * The keys of each action: ``[other, mac]``.
 * @type {Record<FindAction, [string[], string[]]>}
 */
export const FIND_KEYS = {
  find: [["Mod", "F"], ["Mod", "F"]],
  replace: [["Mod", "H"], ["Mod", "Shift", "H"]],
  next: [["Mod", "G"], ["Mod", "G"]],
  prev: [["Mod", "Shift", "G"], ["Mod", "Shift", "G"]],
};

/**
 * Return whether the browser runs on a Mac or an iPhone/iPad (Cmd, not Ctrl).
 * @param {{platform?: string, userAgent?: string}|undefined} [nav]
 */
export function isMac(nav = globalThis.navigator) {
  return /Mac|iPhone|iPad|iPod/i.test(nav?.platform || nav?.userAgent || "");
}

/** How each modifier is written on a Mac, in the order Macs list them. */
const MAC_MODIFIERS = { Ctrl: "⌃", Alt: "⌥", Shift: "⇧", Mod: "⌘" };

/**
 * Return how ``keys`` (modifiers first: "Mod" for Ctrl / Cmd, "Ctrl",
 * "Alt", "Shift", then the key) are written: "Ctrl+Shift+G", or "⇧⌘G" on
 * a Mac.
 * @param {string[]} keys
 * @param {boolean} mac
 */
export function keyLabel(keys, mac) {
  if (!mac) return keys.map((key) => (key === "Mod" ? "Ctrl" : key)).join("+");
  const order = Object.keys(MAC_MODIFIERS);
  const modifiers = keys.filter((key) => key in MAC_MODIFIERS);
  const rest = keys.filter((key) => !(key in MAC_MODIFIERS));
  modifiers.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const glyphs = modifiers.map((key) => MAC_MODIFIERS[/** @type {keyof typeof MAC_MODIFIERS} */ (key)]).join("");
  return glyphs + rest.join("+");
}

/**
 * Return the Latin letter of a key press, lower case: the character when it
 * is one, else the physical key's (a Cyrillic layout still finds with the
 * F key), or "".
 * @param {{key: string, code: string}} event
 */
export function letterOf(event) {
  if (/^[a-z]$/i.test(event.key)) return event.key.toLowerCase();
  const match = /^Key([A-Z])$/.exec(event.code || "");
  return match ? match[1].toLowerCase() : "";
}

/**
 * Return the find action a key press asks for, or null.
 * @param {{key: string, code: string, ctrlKey: boolean, metaKey: boolean,
 *   altKey: boolean, shiftKey: boolean}} event
 * @param {boolean} mac
 * @returns {FindAction|null}
 */
export function findAction(event, mac) {
  // Alt: AltGr is Ctrl+Alt on Windows and types characters there.
  const mod = mac ? event.metaKey && !event.ctrlKey : event.ctrlKey && !event.metaKey;
  if (!mod || event.altKey) return null;
  const letter = letterOf(event);
  for (const [action, keys] of /** @type {Array<[FindAction, [string[], string[]]]>} */ (Object.entries(FIND_KEYS))) {
    const wanted = keys[mac ? 1 : 0];
    if (wanted[wanted.length - 1].toLowerCase() !== letter) continue;
    if (wanted.includes("Shift") === event.shiftKey) return action;
  }
  return null;
}

/**
 * Return whether a modal dialog (sharing, the shortcut help) is open: the
 * page's own keys leave it alone then.
 * @param {Document} [doc]
 */
export function modalOpen(doc = document) {
  try {
    return doc.querySelector("dialog[open]:modal") !== null;
  } catch {
    // No :modal (an old browser): any open dialog counts.
    return doc.querySelector("dialog[open]") !== null;
  }
}
