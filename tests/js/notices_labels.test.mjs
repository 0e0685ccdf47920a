/**
 * Issue 16, slice A: the status never says "saved" over a refused change
 * nor "unsynced" over changes no reconnect will send; ``access`` frames
 * with labels reach the page as ``labels`` events; the "edited … ago" text
 * words time as the server does; the server's limits read in plain words.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import Delta from "quill-delta";

import { Connection } from "../../static/src/editor/connection.js";
import { labelsOf } from "../../static/src/editor/dispatch.js";
import { agoText } from "../../static/src/editor/labels.js";
import { reloadMessage, sizeLabel } from "../../static/src/editor/messages.js";
import { OTClient } from "../../static/src/editor/ot-client.js";
import { connectionNotice, statusText } from "../../static/src/editor/ui.js";
import { FakeSocket, FakeTimers } from "./helpers.mjs";

if (!process.env.VERBOSE) console.warn = () => {};

const CID = "CCCCCCCCCCCCCCCCCCCCCC";
const USER = { id: 3, name: "alice", color: "#c62828" };
const hello = (extra = {}) => ({
  type: "hello", protocol: 1, doc: "d1", rev: 0, content: [{ insert: "\n" }],
  session: "me", user: USER, can_edit: true, peers: [], ...extra,
});

function setup() {
  FakeSocket.all = [];
  FakeSocket.onCreate = null;
  const timers = new FakeTimers();
  const client = new OTClient({ clientId: CID });
  const events = { notice: [], status: [], labels: [], access: [] };
  const conn = new Connection({
    url: "ws://example.test/ws/docs/d1/",
    routeUrl: "http://example.test/api/docs/d1/route",
    client,
    adapter: { flush: () => {}, applyRemote: () => {}, loadContent: () => {}, getRange: () => null },
    WebSocketImpl: FakeSocket,
    fetchImpl: async () => ({ status: 500, ok: false, json: async () => ({}) }),
    timers,
    random: () => 0.5,
    now: () => timers.now,
  });
  for (const name of Object.keys(events)) conn.on(name, (e) => events[name].push(e));
  conn.start();
  return { conn, timers, events, ws: () => FakeSocket.all.at(-1) };
}

/** The status text the page shows for the connection's last status event. */
const shown = (conn, events, note = "") =>
  statusText({ ...events.status.at(-1), stopReason: conn.stopReason, note });

describe("statusText", () => {
  it("says saved only when nothing is pending and no refusal is shown", () => {
    assert.equal(statusText({ status: "connected", pending: 0 }), "Connected · All changes saved");
    assert.equal(statusText({ status: "connected", pending: 0, note: "Last change not saved" }),
      "Connected · Last change not saved");
    assert.equal(statusText({ status: "offline", pending: 2 }), "Offline · 2 unsynced changes");
    assert.equal(statusText({ status: "reconnecting", pending: 2, restored: 2 }),
      "Reconnecting… · 2 unsynced changes (restored)");
  });

  it("never calls changes unsynced once access or the document is gone", () => {
    assert.equal(statusText({ status: "stopped", pending: 4, stopReason: "forbidden" }),
      "Access removed · 4 changes not saved");
    assert.equal(statusText({ status: "stopped", pending: 1, stopReason: "gone" }),
      "Document unavailable · 1 change not saved");
    assert.equal(statusText({ status: "stopped", pending: 0, stopReason: "forbidden" }), "Access removed");
    assert.equal(statusText({ status: "stopped", pending: 2, stopReason: "signed_out" }),
      "Signed out · 2 unsynced changes (sign in to save)");
  });
});

describe("a connection refused for good", () => {
  for (const [code, reason, says] of [[4403, "forbidden", "Access removed"], [4404, "gone", "Document unavailable"]]) {
    it(`close ${code}: the status says ${says} and the notice offers the text`, () => {
      const { conn, events, ws } = setup();
      ws().deliver(hello());
      conn.submit(new Delta().insert("draft"));
      ws().serverClose(code);
      assert.equal(conn.stopReason, reason);
      assert.equal(shown(conn, events), `${says} · 1 change not saved`);
      const notice = connectionNotice(events.notice.at(-1), "/d/x/");
      assert.equal(notice.tone, "error");
      assert.equal(notice.text, "draft");
    });
  }

  it("too_large: the notice keeps the text and the status stops saying saved", () => {
    const { conn, timers, events, ws } = setup();
    ws().deliver(hello());
    conn.submit(new Delta().insert("pasted"));
    ws().deliver({ type: "error", code: "too_large", message: "frames may be at most 524288 bytes" });
    timers.runNext();
    ws().deliver(hello());
    const notice = events.notice.at(-1);
    assert.equal(notice.kind, "unsaved");
    assert.equal(notice.text, "pasted");
    assert.equal(notice.status, "Last change not saved");
    assert.match(notice.message, /too large to save.*one change may be at most 512 KB\./);
    assert.equal(shown(conn, events, notice.status), "Connected · Last change not saved");
    assert.equal(connectionNotice(notice, "/").tone, "error");
  });
});

describe("labels", () => {
  it("an access frame with labels becomes a labels event; an old one does not", () => {
    const { events, ws } = setup();
    ws().deliver(hello());
    ws().deliver({ type: "access", can_edit: true, can_comment: true });
    assert.equal(events.labels.length, 0);
    ws().deliver({
      type: "access", can_edit: true, can_comment: true, role: "editor", role_label: "Editor",
      is_owner: false, owner: { id: 9, name: "Bob" },
    });
    assert.deepEqual(events.labels.at(-1),
      { role: "editor", roleLabel: "Editor", isOwner: false, owner: { id: 9, name: "Bob" } });
  });

  it("labelsOf refuses wrong types and drops a malformed owner", () => {
    assert.equal(labelsOf({ role: 3, role_label: "x" }), null);
    assert.deepEqual(labelsOf({ role: "owner", role_label: "Owner", is_owner: true, owner: { id: "1" } }),
      { role: "owner", roleLabel: "Owner", isOwner: true, owner: null });
  });

  it("agoText words time like Django's timesince, largest unit only", () => {
    assert.equal(agoText(0), "just now");
    assert.equal(agoText(59_000), "just now");
    assert.equal(agoText(60_000), "1\u00a0minute ago");
    assert.equal(agoText(2 * 60_000 + 5_000), "2\u00a0minutes ago");
    assert.equal(agoText(3 * 3_600_000 + 60_000), "3\u00a0hours ago");
    assert.equal(agoText(NaN), "just now");
  });
});

describe("plain reasons", () => {
  it("says the frame limit in KB or MB and leaves unknown reasons as they are", () => {
    assert.equal(sizeLabel(524288), "512 KB");
    assert.equal(sizeLabel(1572864), "1.5 MB");
    assert.match(reloadMessage({ code: "too_large", message: "frames may be at most 2048 bytes" }),
      /The server said: one change may be at most 2 KB\.$/);
    assert.match(reloadMessage({ code: "too_large", message: "the document would be too large" }),
      /The server said: the document would be too large$/);
  });
});
