/*
 * CollabDocs page scripts: the share dialog, renaming a document in place,
 * confirmations and dismissible messages. Runs as the esbuild bundle
 * (static/dist/app.js) or, before a build, straight from static/src/app.js
 * as a module script (its imports, api.js and import-file.js, are served
 * beside it).
 *
 * Everything the server sends is shown with textContent or form values,
 * never as HTML: titles and names are written by people.
 *
 * Events, for the live editor (editor.js):
 *   - listens for `collabdocs:title` on document ({detail: {title}}) and
 *     shows the new title (someone else renamed the document);
 *   - dispatches `collabdocs:renamed` on document ({detail: {title}}) after
 *     this page renamed it.
 */
import { api } from "./api.js";
import "./import-file.js";
import "./share-people.js";
import { adoptPageMessages } from "./toasts.js";

// Django's messages are rendered as toasts (templates/_messages.html): give
// them their dismiss buttons and the fade of info and success ones.
adoptPageMessages();
import "./list.js";

(() => {
  /** Build an element: el("li", {className: "x"}, "text", child). Strings become text. */
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "dataset") Object.assign(node.dataset, value);
      else if (key in node && typeof value !== "string") node[key] = value;
      else if (key === "className" || key === "textContent" || key === "value" || key === "title") node[key] = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  /**
   * A person's (or group's) initial on a dot. A person's dot takes the
   * colour the server sent (documents/people.py ``user_color``, the same
   * as their cursor); a group, which has none, keeps the plain avatar.
   * @param {string} name
   * @param {string} [color]  "#rrggbb" from the server
   */
  function avatar(name, color) {
    const letter = (name || "?").trim().charAt(0).toUpperCase() || "?";
    const node = el("span", { className: "avatar", "aria-hidden": "true" }, letter);
    if (/^#[0-9a-f]{6}$/i.test(color || "")) node.style.background = /** @type {string} */ (color);
    return node;
  }

  // The person's own dot (the account menu) in their one colour, as the
  // server sent it in data-user-color (set here: the CSP refuses style="").
  for (const dot of document.querySelectorAll("[data-user-color]")) {
    const color = /** @type {HTMLElement} */ (dot).dataset.userColor || "";
    if (/^#[0-9a-f]{6}$/i.test(color)) /** @type {HTMLElement} */ (dot).style.background = color;
  }

  // --- Messages and confirmations ------------------------------------

  document.addEventListener("click", (event) => {
    const close = /** @type {Element} */ (event.target).closest("[data-dismiss]");
    if (close) close.closest(".message")?.remove();
  });

  document.addEventListener("submit", (event) => {
    const form = /** @type {HTMLFormElement} */ (event.target);
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // Close the account menu when clicking elsewhere.
  document.addEventListener("click", (event) => {
    for (const menu of document.querySelectorAll("details.usermenu[open]")) {
      if (!menu.contains(/** @type {Node} */ (event.target))) menu.removeAttribute("open");
    }
  });

  // --- Rename in place ----------------------------------------------

  // An <input> for those who may rename, else a heading (whose value is undefined).
  const titleInput = /** @type {HTMLInputElement|null} */ (document.getElementById("doc-title"));
  const titleStatus = document.getElementById("title-status");
  let savedTitle = titleInput ? (titleInput.value ?? titleInput.textContent).trim() : "";

  /** @param {string} title */
  function showTitle(title) {
    savedTitle = title;
    if (titleInput) {
      if (titleInput.tagName === "INPUT") {
        if (document.activeElement !== titleInput) titleInput.value = title;
      } else {
        titleInput.textContent = title;
      }
    }
    document.title = `${title} · CollabDocs`;
    for (const button of document.querySelectorAll("[data-share-title]")) {
      if (!(button instanceof HTMLElement)) continue;
      if (button.closest(".doc-actions")) button.dataset.shareTitle = title;
    }
  }

  /**
   * @param {string} text
   * @param {string} [kind]
   */
  function setTitleStatus(text, kind) {
    if (!titleStatus) return;
    titleStatus.textContent = text;
    titleStatus.dataset.kind = kind || "";
  }

  async function saveTitle() {
    if (!titleInput) return;
    const title = titleInput.value.trim();
    if (title === savedTitle) {
      titleInput.value = savedTitle;
      titleInput.removeAttribute("aria-invalid");
      setTitleStatus("");
      return;
    }
    setTitleStatus("Saving…");
    try {
      const url = /** @type {string} */ (titleInput.dataset.renameUrl); // set: see below
      const data = await api(url, { method: "POST", body: { title } });
      titleInput.removeAttribute("aria-invalid");
      titleInput.value = data.title;
      showTitle(data.title);
      setTitleStatus("Saved", "ok");
      document.dispatchEvent(new CustomEvent("collabdocs:renamed", { detail: { title: data.title } }));
    } catch (error) {
      titleInput.setAttribute("aria-invalid", "true");
      setTitleStatus(error.message, "error");
    }
  }

  if (titleInput && titleInput.tagName === "INPUT" && titleInput.dataset.renameUrl) {
    titleInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        titleInput.blur();
      } else if (event.key === "Escape") {
        titleInput.value = savedTitle;
        titleInput.removeAttribute("aria-invalid");
        setTitleStatus("");
        titleInput.blur();
      }
    });
    titleInput.addEventListener("change", saveTitle);
    titleInput.addEventListener("focus", () => titleInput.select());
  }

  document.addEventListener("collabdocs:title", (event) => {
    const detail = /** @type {CustomEvent} */ (event).detail;
    const title = detail && detail.title;
    if (typeof title === "string") showTitle(title);
  });

  // --- Share dialog ---------------------------------------------------

  const dialogOrNull = /** @type {HTMLDialogElement|null} */ (document.getElementById("share-dialog"));
  if (!dialogOrNull) return;
  const dialog = dialogOrNull;

  /** @param {string} name */
  const field = (name) =>
    /** @type {HTMLElement} */ (dialog.querySelector(`[data-share-field="${name}"]`));
  /** @param {string} name */
  const form = (name) =>
    /** @type {HTMLFormElement} */ (dialog.querySelector(`[data-share-form="${name}"]`));
  /** @param {string} name */
  const action = (name) =>
    /** @type {HTMLElement} */ (dialog.querySelector(`[data-share-action="${name}"]`));
  const linkUrl = /** @type {HTMLInputElement} */ (field("link-url"));
  const linkMode = /** @type {HTMLSelectElement} */ (field("link-mode"));
  let shareUrl = null;
  let state = null;
  let busy = false;

  /**
   * @param {string} text
   * @param {string} [kind]
   */
  function setStatus(text, kind) {
    const status = field("status");
    status.textContent = text || "";
    status.dataset.kind = kind || "ok";
    status.hidden = !text;
  }

  /**
   * POST ``body`` to the share endpoint + ``path`` and show the result.
   * @param {string} path
   * @param {Object} body
   * @param {{confirmText?: string}} [options]
   * @returns {Promise<boolean|undefined>} whether it was done (undefined: not tried)
   */
  async function run(path, body, { confirmText } = {}) {
    if (busy) return;
    if (confirmText && !window.confirm(confirmText)) return;
    busy = true;
    dialog.setAttribute("aria-busy", "true");
    try {
      const data = await api(shareUrl + path, { method: "POST", body });
      if (data.share === null) {
        // The user gave their own access away.
        window.location.assign("/");
        return;
      }
      render(data.share);
      setStatus(data.message, "ok");
      return true;
    } catch (error) {
      setStatus(error.message, "error");
      return false;
    } finally {
      busy = false;
      dialog.removeAttribute("aria-busy");
    }
  }

  function roleValue(role, canShare) {
    return role === "editor" && canShare ? "editor+share" : role;
  }

  /** What each role is called; commenters may comment and suggest, not edit. */
  const ROLE_LABELS = { viewer: "Viewer", commenter: "Commenter", editor: "Editor" };

  function roleSelect(current, onChange, { allowShare = true, label }) {
    const select = el("select", { "aria-label": label });
    const options = Object.entries(ROLE_LABELS);
    if (allowShare) options.push(["editor+share", "Editor, can share"]);
    for (const [value, text] of options) {
      select.append(el("option", { value, selected: value === current }, text));
    }
    select.addEventListener("change", () => onChange(select.value, select));
    return select;
  }

  function roleText(role, canShare) {
    if (role === "owner") return "Owner";
    const label = ROLE_LABELS[role] || "Viewer";
    return canShare ? `${label}, can share` : label;
  }

  /**
   * @param {Object} person
   * @param {{role?: string, canShare?: boolean, isOwner?: boolean}} options
   */
  function personRow(person, { role, canShare, isOwner }) {
    const manage = state.you.can_manage;
    const name = person.name + (person.is_you ? " (you)" : "");
    const sub = person.email ? `${person.username} · ${person.email}` : person.username;
    const row = el("li", { className: "share-row", dataset: { userId: String(person.id) } },
      avatar(person.name, person.color),
      el("div", { className: "share-who" }, el("strong", {}, name), el("span", {}, sub)));
    if (isOwner) {
      row.append(el("span", { className: "share-role" }, "Owner"));
    } else if (manage && !person.is_you) {
      row.append(roleSelect(roleValue(role, canShare), (value, select) => {
        const [newRole, share] = value.split("+");
        run("/role", { user: person.id, role: newRole, can_share: share === "share" }).then((ok) => {
          if (!ok) select.value = roleValue(role, canShare);
        });
      }, { label: `Role of ${person.name}` }));
      row.append(el("button", {
        type: "button", className: "icon-button", title: `Remove ${person.name}`, "aria-label": `Remove ${person.name}`,
        onclick: () => run("/revoke", { user: person.id }),
      }, closeIcon()));
    } else {
      row.append(el("span", { className: "share-role" }, roleText(role, canShare)));
      if (person.is_you) {
        row.append(el("button", {
          type: "button", className: "button button-quiet button-small",
          onclick: () => run("/revoke", { user: person.id }, {
            confirmText: "Remove your own access to this document? You will need to be invited again.",
          }),
        }, "Leave"));
      }
    }
    return row;
  }

  function closeIcon() {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", "M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z");
    path.setAttribute("fill", "currentColor");
    svg.append(path);
    return svg;
  }

  function groupRow(group) {
    const manage = state.you.can_manage;
    const row = el("li", { className: "share-row", dataset: { groupId: String(group.id) } },
      avatar(group.name),
      el("div", { className: "share-who" }, el("strong", {}, group.name), el("span", {}, "Group")));
    if (manage) {
      row.append(roleSelect(group.role, (value, select) => {
        run("/group", { group: group.name, role: value }).then((ok) => { if (!ok) select.value = group.role; });
      }, { allowShare: false, label: `Role of group ${group.name}` }));
      row.append(el("button", {
        type: "button", className: "icon-button", title: `Remove group ${group.name}`, "aria-label": `Remove group ${group.name}`,
        onclick: () => run("/group/revoke", { group: group.id }),
      }, closeIcon()));
    } else {
      row.append(el("span", { className: "share-role" }, roleText(group.role, false)));
    }
    return row;
  }

  function render(next) {
    state = next;
    const manage = state.you.can_manage;
    field("title").textContent = state.document.title;
    field("readonly").hidden = manage;
    form("grant").hidden = !manage;
    form("group").hidden = !manage;

    const people = field("people");
    people.replaceChildren(personRow(state.owner, { isOwner: true }),
      ...state.people.map((person) => personRow(person, { role: person.role, canShare: person.can_share })));

    const groups = field("groups");
    groups.replaceChildren(...state.groups.map(groupRow));
    if (!state.groups.length) groups.append(el("li", { className: "share-empty" }, "Not shared with any group."));
    field("groups-section").hidden = !manage && !state.groups.length;

    const mode = linkMode;
    mode.replaceChildren(...state.link_modes.map((option) =>
      el("option", { value: option.value, selected: option.value === state.link.mode },
        option.value === "off" ? "Restricted: only people with access" : option.label)));
    mode.hidden = !manage;
    const current = state.link_modes.find((option) => option.value === state.link.mode);
    field("link-mode-text").textContent = manage ? "" :
      (state.link.mode === "off" ? "Only people with access can open this document." : current.label + ".");
    field("link-row").hidden = !state.link.url;
    linkUrl.value = state.link.url || "";
    action("regenerate").hidden = !manage;

    field("transfer-section").hidden = !state.you.is_owner;
  }

  async function openDialog(url, title) {
    shareUrl = url;
    state = null;
    setStatus("");
    field("title").textContent = title || "";
    field("people").replaceChildren(el("li", { className: "share-empty" }, "Loading…"));
    field("groups").replaceChildren();
    for (const name of ["grant", "group"]) form(name).hidden = true;
    field("transfer-section").hidden = true;
    field("readonly").hidden = true;
    field("link-row").hidden = true;
    if (!dialog.open) dialog.showModal();
    try {
      const next = await api(url);
      render(next);
      if (next.you.can_manage) /** @type {HTMLElement} */ (dialog.querySelector("#share-identifier")).focus();
    } catch (error) {
      field("people").replaceChildren();
      setStatus(error.message, "error");
    }
  }

  document.addEventListener("click", (event) => {
    const button = /** @type {Element} */ (event.target).closest("[data-share-url]");
    if (button instanceof HTMLElement) {
      event.preventDefault();
      openDialog(button.dataset.shareUrl, button.dataset.shareTitle);
    }
  });

  for (const button of dialog.querySelectorAll("[data-dialog-close]")) {
    button.addEventListener("click", () => dialog.close());
  }
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close(); // a click on the backdrop
  });

  form("grant").addEventListener("submit", async (event) => {
    event.preventDefault();
    const target = /** @type {HTMLFormElement} */ (event.target);
    const data = new FormData(target);
    const role = data.get("role");
    const ok = await run("", {
      identifier: String(data.get("identifier") || ""),
      role,
      can_share: role === "editor" && data.get("can_share") === "on",
    });
    if (ok) target.reset();
  });

  const grantRole = /** @type {HTMLSelectElement} */ (form("grant").querySelector("select[name=role]"));
  const grantShare = /** @type {HTMLInputElement} */ (form("grant").querySelector("input[name=can_share]"));
  const syncShareBox = () => {
    grantShare.disabled = grantRole.value !== "editor";
    if (grantShare.disabled) grantShare.checked = false;
  };
  grantRole.addEventListener("change", syncShareBox);
  form("grant").addEventListener("reset", () => setTimeout(syncShareBox));
  syncShareBox();

  form("group").addEventListener("submit", async (event) => {
    event.preventDefault();
    const target = /** @type {HTMLFormElement} */ (event.target);
    const data = new FormData(target);
    const ok = await run("/group", { group: String(data.get("group") || ""), role: data.get("role") });
    if (ok) target.reset();
  });

  form("transfer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const target = /** @type {HTMLFormElement} */ (event.target);
    const identifier = String(new FormData(target).get("identifier") || "").trim();
    const ok = await run("/transfer", { identifier }, {
      confirmText: `Make ${identifier} the owner of this document? Only they will be able to undo this.`,
    });
    if (ok) target.reset();
  });

  linkMode.addEventListener("change", async () => {
    const select = linkMode;
    const ok = await run("/link", { mode: select.value });
    if (!ok && state) select.value = state.link.mode;
  });

  action("regenerate").addEventListener("click", () => {
    run("/link", { mode: state.link.mode, regenerate: true }, {
      // Who is cut off (documents/links.py): everyone who opened it through the old link.
      confirmText: "Make a new link? The current link stops working for everyone: people who opened " +
        "the document through it lose that access, even if they have it open now, unless it is also " +
        "shared with them directly or through a group. Send the new link to whoever should keep access.",
    });
  });

  action("copy").addEventListener("click", async () => {
    const input = linkUrl;
    try {
      await navigator.clipboard.writeText(input.value);
    } catch {
      input.select();
      document.execCommand("copy");
    }
    setStatus("Link copied.", "ok");
  });
})();
