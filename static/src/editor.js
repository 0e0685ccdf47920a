/**
 * CollabDocs document page: Quill 2 bound to the collaboration protocol.
 *
 * Reads its configuration from ``#editor-app`` (data-doc-id, data-ws-path,
 * data-can-edit, data-can-comment, data-rename-url, data-route-url, data-user-id,
 * data-user-name, the embed policy: data-video-hosts,
 * data-image-data-max-bytes, data-image-path-prefix, and the server's ops
 * per change, data-max-change-ops, which the OT client sends larger changes
 * under, in pieces), mounts Quill into
 * ``#toolbar`` / ``#editor`` and connects.
 *
 * Quill registers exactly what the content schema allows (schema.js, built
 * from realtime/ot/schema.json like the server's ``parse_change``): its
 * ``formats`` whitelist, headings of the schema's levels only, links,
 * images and videos sanitised to the schema and the deployment's policy,
 * and the review marks on text, embeds and line ends (review/suggest-blots.js).
 *
 * Review (issue 12): the comments and the margin (review/comments.js), the
 * mode switch (review/modes.js: Editing / Suggesting / Viewing, which sets
 * the binding's rewrite), the suggestion cards (review/suggest-cards.js).
 * Notifications for the person arrive on the socket and are passed to the
 * header's bell as the window event ``collabdocs:notify``.
 *
 * ``window.collabdocs`` exposes {quill, client, connection, binding,
 * notices, comments, modes, cards} for debugging and the browser tests. The
 * title is renamed in place by app.js; renames announced by the server are
 * passed to it (``collabdocs:title``).
 *
 * @module editor
 */
import Quill from "quill";
import Header from "quill/formats/header.js";
import Image from "quill/formats/image.js";
import Link from "quill/formats/link.js";
import Video from "quill/formats/video.js";
import QuillCursors from "quill-cursors";
import redoIcon from "quill/assets/icons/redo.svg";
import undoIcon from "quill/assets/icons/undo.svg";

import "quill/dist/quill.snow.css";
import "./editor.css";

import { api } from "./api.js";
import { Connection } from "./editor/connection.js";
import { DEFAULT_MAX_CHANGE_OPS, OTClient } from "./editor/ot-client.js";
import { describeReport, installPasteGuard } from "./editor/paste.js";
import { QuillBinding } from "./editor/quill-binding.js";
import { installAuthorship } from "./editor/authorship/index.js";
import { installImages } from "./editor/images/index.js";
import { installInsertFile } from "./editor/insert-file.js";
import { installLayout, layoutModules, registerLayout } from "./editor/layout/index.js";
import { installComments } from "./editor/review/comments.js";
import { ModeSwitch, rewriterFor } from "./editor/review/modes.js";
import { registerReviewMarks } from "./editor/review/suggest-blots.js";
import { SuggestionCards } from "./editor/review/suggest-cards.js";
import { AuthorColors } from "./editor/review/suggest-colors.js";
import "./editor/review/suggestions.css";
import {
  HEADER_LEVELS,
  LINK_SCHEMES,
  imageAllowed,
  policyFromDataset,
  quillFormats,
  videoAllowed,
} from "./editor/schema.js";
import { installFind } from "./editor/find/index.js";
import { installOffline } from "./editor/offline/index.js";
import { installShortcuts } from "./editor/shortcuts.js";
import { buildToolbar, labelPickers } from "./editor/toolbar.js";
import { historyOptions, registerUndo } from "./editor/undo.js";
import { readableOn, renderPeople } from "./editor/people-list.js";
import { peopleColors } from "./editor/colors.js";
import "./editor/presence.css";
import { installLabels } from "./editor/labels.js";
import { Notices, announceTitle, connectionNotice, statusIndicator } from "./editor/ui.js";

Quill.register("modules/cursors", QuillCursors);
registerReviewMarks();

/**
 * Register Quill's blots as the schema and ``policy`` allow them. A value
 * outside them is never drawn: a link becomes ``about:blank``, an image
 * ``//:0``, a video ``about:blank`` (the outgoing guard and the server
 * keep such values out of documents; this covers what is already stored).
 * @param {import("./editor/schema.js").EmbedPolicy} policy
 */
function registerSchema(policy) {
  class SchemaHeader extends Header {
    // Parchment maps header N to tagName[N - 1]: the schema's levels are 1..n.
    static tagName = HEADER_LEVELS.map((level) => `H${level}`);

    /** Draw a deeper level (an API call, old content) as the deepest allowed. */
    static create(value) {
      const level = Number(value);
      return super.create(HEADER_LEVELS.includes(level) ? level : HEADER_LEVELS[HEADER_LEVELS.length - 1]);
    }
  }
  class SchemaLink extends Link {
    static PROTOCOL_WHITELIST = LINK_SCHEMES;
  }
  class SchemaImage extends Image {
    static sanitize(url) {
      return imageAllowed(url, policy) ? url : "//:0";
    }
  }
  class SchemaVideo extends Video {
    static sanitize(url) {
      return videoAllowed(url, policy) ? url : "about:blank";
    }
  }
  Quill.register({
    "formats/header": SchemaHeader,
    "formats/link": SchemaLink,
    "formats/image": SchemaImage,
    "formats/video": SchemaVideo,
  }, true);
}

/**
 * Return the server's ops per change from ``data-max-change-ops``, or the
 * settings default when it is missing or not an integer of at least 2.
 * @param {string|undefined} value
 */
function maxChangeOps(value) {
  const n = Number(value);
  if (Number.isInteger(n) && n >= 2) return n;
  if (value !== undefined) console.warn("collabdocs: ignoring data-max-change-ops", value);
  return DEFAULT_MAX_CHANGE_OPS;
}

/** @param {string} path */
function socketUrl(path) {
  const url = new URL(path, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.search = "";
  return url.toString();
}

function main() {
  const app = document.getElementById("editor-app");
  const editorEl = document.getElementById("editor");
  const toolbarEl = document.getElementById("toolbar");
  if (!app || !editorEl || !toolbarEl) return;
  const data = app.dataset;
  const pageUser = {
    id: Number(data.userId) || 0,
    name: data.userName || "You",
    // The server's colour for the person (hello.user; grey until then).
    get color() {
      return peopleColors.draw(this.id);
    },
  };
  let canEdit = data.canEdit === "true";
  const policy = policyFromDataset(data);
  registerSchema(policy);
  registerLayout();
  registerUndo();

  buildToolbar(toolbarEl);
  const quill = new Quill(editorEl, {
    theme: "snow",
    // Only what the server accepts (Quill adds the containers lists and
    // code blocks need); pasted HTML cannot bring in anything else.
    formats: quillFormats(),
    readOnly: true, // until the server's hello
    placeholder: "",
    modules: {
      ...layoutModules(),
      toolbar: {
        container: toolbarEl,
        handlers: {
          undo() {
            // Right after deciding on suggestions, undo takes the decision back.
            if (cards?.undoDecision()) return;
            this.quill.history.undo();
          },
          redo() {
            this.quill.history.redo();
          },
        },
      },
      // Undo only the person's own changes; remote ones transform the stacks.
      history: historyOptions(),
      // A name flag shows while its person types or moves and 5 s after
      // (QuillBinding.FLAG_MS), and on hover over their caret, lingering
      // hideDelayMs after the pointer leaves it.
      cursors: {
        hideDelayMs: 3000,
        hideSpeedMs: 400,
        selectionChangeSource: null,
        transformOnTextChange: false,
      },
    },
  });
  // Quill replaces the <select>s with pickers of its own: label those too.
  labelPickers(toolbarEl);
  toolbarEl.querySelector(".ql-undo")?.insertAdjacentHTML("afterbegin", undoIcon);
  toolbarEl.querySelector(".ql-redo")?.insertAdjacentHTML("afterbegin", redoIcon);

  const notices = new Notices(app);
  // What a paste or the outgoing guard changed, summed over one turn of
  // the event loop (a paste reports from both) into one notice.
  let told = null;
  const tell = (report) => {
    if (!told) {
      told = {};
      setTimeout(() => {
        const message = describeReport(told, policy);
        told = null;
        if (message) notices.show({ kind: "content", message, tone: "info" });
      }, 0);
    }
    for (const [key, n] of Object.entries(report)) told[key] = (told[key] || 0) + n;
  };
  installPasteGuard(quill, policy, tell);

  const client = new OTClient({ maxChangeOps: maxChangeOps(data.maxChangeOps) });
  const binding = new QuillBinding({
    quill,
    cursors: quill.getModule("cursors"),
    policy,
    // What got past the paste matchers (a drop, an API call) and was removed.
    onRemoved: (removed) => tell({
      imagesDropped: removed.images,
      videosDropped: removed.videos,
      links: removed.links,
    }),
    inkOn: readableOn,
  });
  const connection = new Connection({
    // The template always sets both.
    url: socketUrl(/** @type {string} */ (data.wsPath)),
    routeUrl: /** @type {string} */ (data.routeUrl),
    client,
    adapter: binding.adapter,
    canEdit,
    canComment: canEdit || data.canComment === "true",
    online: navigator.onLine !== false,
  });
  binding.attach(connection.port);
  connection.on("cursors", () => binding.scheduleRedraw());
  connection.on("peers", () => binding.scheduleRedraw());
  connection.on("presence", (session) => binding.flash(session));

  // Honest about refused changes (a notice's status phrase) and a stop for good.
  const showStatus = statusIndicator(document.getElementById("connection-status"), {
    notices,
    stopReason: () => connection.stopReason,
  });
  const peopleEl = document.getElementById("people");
  // Renaming in place is app.js's; it shows titles announced here.
  const titleEl = document.getElementById("doc-title");

  let canComment = canEdit || data.canComment === "true";
  /** @type {SuggestionCards|null} made once the margin exists (below) */
  let cards = null;
  // Editing / Suggesting / Viewing: what the person's typing does.
  const modes = new ModeSwitch({
    element: document.getElementById("mode-switch"),
    docId: data.docId || "",
    onChange: (mode) => {
      app.dataset.mode = mode;
      applyAccess();
    },
  });

  const applyAccess = () => {
    const ready = connection.hellos > 0 && !connection.stopReason;
    const mode = modes.mode;
    binding.rewrite = rewriterFor(mode, pageUser.id, { mayEdit: canEdit });
    const allowed = mode === "editing" ? canEdit : mode === "suggesting" && canComment;
    const editable = allowed && ready;
    quill.enable(editable);
    quill.root.dataset.placeholder = editable ? "Start typing…" : "";
    app.dataset.readOnly = String(!editable);
    toolbarEl.hidden = !allowed || Boolean(connection.stopReason);
    if (titleEl instanceof HTMLInputElement) titleEl.readOnly = !canEdit;
  };

  connection.on("status", (state) => {
    showStatus(state);
    app.dataset.connection = state.status;
  });
  connection.on("hello", () => {
    notices.dismiss("too_many");
    applyAccess();
  });
  connection.on("access", ({ canEdit: allowed, canComment: mayComment }) => {
    const was = { canEdit, canComment };
    canEdit = allowed;
    canComment = allowed || mayComment;
    modes.setAccess({ canEdit, canComment });
    applyAccess();
    cards?.redraw();
    if (connection.stopReason || connection.hellos === 0) return;
    if (was.canEdit && !canEdit) {
      const message = canComment
        ? "You can now only comment on and suggest changes to this document."
        : "You can now only view this document.";
      notices.show({ kind: "access", message, tone: "info" });
    } else if (!was.canEdit && canEdit) {
      notices.show({ kind: "access", message: "You can edit this document now.", tone: "info" });
    } else if (!was.canComment && canComment) {
      notices.show({ kind: "access", message: "You can comment on and suggest changes to this document now.", tone: "info" });
    }
  });
  const showPeople = () => renderPeople(peopleEl, connection.user || pageUser, connection.peers.list());
  connection.on("peers", showPeople);
  connection.on("title", announceTitle);
  // The bell in the header (notifications, templates/_usermenu.html) is on
  // every page; on this one its news comes over the document's socket.
  connection.on("notify", (payload) => {
    window.dispatchEvent(new CustomEvent("collabdocs:notify", { detail: payload }));
  });
  // The history panel (history.js, its own bundle) listens for changes to
  // the document's history that arrive over this socket.
  connection.on("history", (payload) => {
    window.dispatchEvent(new CustomEvent("collabdocs:history", { detail: payload }));
  });
  connection.on("notice", (notice) => notices.show(connectionNotice(notice, window.location.pathname)));
  // Role pill, owner, owner-only actions and "edited … by …" (labels.js).
  const labels = installLabels({ app, connection, docId: data.docId || "", me: pageUser });

  showPeople();
  showStatus({ status: connection.status, pending: 0, retrying: false });
  modes.setAccess({ canEdit, canComment });
  modes.installKeys(document);
  applyAccess();

  window.addEventListener("beforeunload", (event) => {
    if (client.pendingEdits > 0) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  window.addEventListener("online", () => connection.setOnline(true));
  window.addEventListener("offline", () => connection.setOnline(false));

  const comments = installComments({
    quill,
    app,
    margin: /** @type {HTMLElement} */ (document.getElementById("review-margin")),
    connection,
    binding,
    notices,
    me: pageUser,
    docId: data.docId || "",
    access: () => ({ canEdit, canComment }),
  });

  // Names of the people whose suggestions are shown: those here now, the
  // person, and whoever the threads name; else "Someone".
  /** @type {Map<number, string>} */
  const names = new Map([[pageUser.id, pageUser.name]]);
  const learnNames = () => {
    for (const peer of connection.peers.list()) if (peer.user?.id) names.set(peer.user.id, peer.user.name);
  };
  connection.on("peers", () => {
    learnNames();
    cards?.schedule();
  });
  connection.on("review", (payload) => {
    const by = payload?.thread?.created_by;
    if (by && typeof by.id === "number") names.set(by.id, by.name);
  });
  // Authors who are not here: asked by id from the server, which names
  // whoever took part in the document (to anyone who may view it).
  /** @type {Set<number>} */
  const askedNames = new Set();
  /** @param {Iterable<number>} authors */
  const learnAuthors = (authors) => {
    const unknown = [...authors].filter((id) => !names.has(id) && !askedNames.has(id)).slice(0, 50);
    if (unknown.length === 0) return;
    for (const id of unknown) askedNames.add(id);
    api(`/api/docs/${encodeURIComponent(data.docId || "")}/authors?ids=${unknown.join(",")}`)
      .then(({ people }) => {
        for (const person of people || []) {
          names.set(person.id, person.name);
          peopleColors.learn(person); // their suggestions take their colour
        }
        cards?.schedule();
      })
      .catch(() => {}); // names are a nicety: "Someone" until known
  };
  const colors = new AuthorColors(document);
  cards = new SuggestionCards({
    quill,
    margin: comments?.margin ?? null,
    docId: data.docId || "",
    me: pageUser,
    access: () => ({ canEdit, canComment }),
    nameOf: (id) => names.get(id) || "Someone",
    onAuthors: (authors) => {
      colors.ensure(authors);
      learnAuthors(authors);
    },
    tell: (message, tone = "info", action = null) =>
      notices.show({ kind: "suggestions", message, tone: /** @type {any} */ (tone), action }),
  });
  cards.installUndoKey(document);

  const access = () => ({ canEdit, canComment });
  const docId = data.docId || "";
  const layout = installLayout({ quill, app, toolbar: toolbarEl, notices });
  const images = installImages({ quill, app, notices, docId, policy, access });
  const insertFile = installInsertFile({ quill, app, notices, docId, access });
  const authorship = installAuthorship({ quill, app, connection, client, me: pageUser, docId });
  const find = installFind({ quill, app, notices, access });
  const shortcuts = installShortcuts({ quill, app });
  const offline = installOffline({ quill, app, connection, client, docId, me: pageUser, notices, adapter: binding.adapter });

  window.collabdocs = {
    quill,
    client,
    connection,
    binding,
    notices,
    comments,
    modes,
    cards,
    layout,
    images,
    insertFile,
    authorship,
    find,
    shortcuts,
    offline,
    labels,
  };
  connection.start();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
else main();
