/**
 * The connection's side of authorship (dispatch.js, connection.js): the
 * ``authors`` request goes out only on a ready socket, the reply reaches
 * listeners, and every op committed after it is reported in server order
 * (``committed``): someone else's op as sent, with its ``authors``, and
 * the person's own op once acked, as the server applied it (transformed
 * over what came before). Applying those to the runs of the reply keeps
 * them equal to the server's (runs.js), which is what Show authors relies on.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import Delta from "quill-delta";

import { apply, fromJSON } from "../../static/src/editor/authorship/runs.js";
import { Connection } from "../../static/src/editor/connection.js";
import { OTClient } from "../../static/src/editor/ot-client.js";
import { FakeSocket, FakeTimers } from "./helpers.mjs";

if (!process.env.VERBOSE) console.warn = () => {};

const ME = { id: 3, name: "alice", color: "#e6194b" };

function setup() {
  FakeSocket.all = [];
  FakeSocket.onCreate = null;
  const timers = new FakeTimers();
  let doc = new Delta().insert("\n");
  const client = new OTClient({ clientId: "AAAAAAAAAAAAAAAAAAAAAA" });
  const conn = new Connection({
    url: "ws://example.test/ws/docs/d1/",
    routeUrl: "http://example.test/api/docs/d1/route",
    client,
    adapter: {
      flush: () => {},
      applyRemote: (delta) => {
        doc = doc.compose(delta);
      },
      loadContent: (content) => {
        doc = new Delta(content);
      },
      getRange: () => null,
    },
    WebSocketImpl: FakeSocket,
    fetchImpl: async () => ({ status: 500, ok: false, json: async () => ({}) }),
    timers,
    random: () => 0.5,
    now: () => timers.now,
  });
  /** @type {{committed: any[], authors: any[]}} */
  const events = { committed: [], authors: [] };
  conn.on("committed", (e) => events.committed.push(e));
  conn.on("authors", (e) => events.authors.push(e));
  const requested = conn.requestAuthors();
  conn.start();
  const type = (change) => {
    doc = doc.compose(change);
    conn.submit(change);
  };
  return { conn, client, events, type, requested, ws: () => FakeSocket.all.at(-1), doc: () => doc };
}

const hello = (extra = {}) => ({
  type: "hello", protocol: 1, doc: "d1", rev: 0, content: [{ insert: "\n" }],
  session: "me", user: ME, can_edit: true, peers: [], ...extra,
});

describe("authors frames on the connection", () => {
  it("asks only on a ready socket, and hands the reply on", () => {
    const { conn, ws, events, requested } = setup();
    assert.equal(requested, false, "no socket yet: not sent");
    ws().deliver(hello());
    assert.equal(conn.requestAuthors(), true);
    assert.deepEqual(ws().frames.at(-1), { type: "authors" });
    ws().deliver({ type: "authors", rev: 0, runs: [[1, null]] });
    assert.deepEqual(events.authors, [{ rev: 0, runs: [[1, null]] }]);
  });

  it("reports committed ops in server order, the person's own as applied", () => {
    const { ws, events, type, client, doc } = setup();
    ws().deliver(hello());
    ws().deliver({ type: "authors", rev: 0, runs: [[1, null]] });
    let runs = fromJSON(events.authors[0].runs);
    // The person types "ab"; before the ack, Bob's op (rev 1) inserts at 0.
    type(new Delta().insert("ab"));
    const mine = ws().frames.at(-1);
    assert.equal(mine.type, "op");
    ws().deliver({ type: "op", rev: 1, id: "B".repeat(16) + ":1", session: "s", user: 5, delta: [{ insert: "XY" }] });
    // A restore by the owner (rev 2) puts back text by two people.
    ws().deliver({
      type: "op", rev: 2, id: "R".repeat(16) + ":1", session: "", user: 1,
      delta: [{ retain: 2 }, { insert: "rst" }], authors: [[2, 7], [1, null]],
    });
    ws().deliver({ type: "ack", id: mine.id, rev: 3 });
    assert.equal(client.revision, 3);
    assert.deepEqual(events.committed.map((e) => [e.rev, e.user]), [[1, 5], [2, 1], [3, 3]]);
    assert.deepEqual(events.committed[1].authors, [[2, 7], [1, null]]);
    for (const e of events.committed) runs = apply(runs, e.delta, e.user, e.authors && fromJSON(e.authors));
    // Server order: "XY" (5), then "rst" at 2 (7, 7, null), then "ab" moved
    // over both (the person's op, transformed as the server applied it).
    assert.equal(doc().ops.map((op) => op.insert).join(""), "XYrstab\n");
    assert.deepEqual(runs, [[2, 5], [2, 7], [1, null], [2, 3], [1, null]]);
  });
});
