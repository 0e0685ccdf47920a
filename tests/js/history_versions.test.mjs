/**
 * The version list's state (static/src/history/versions.js): pages through
 * any number of versions by the ``next`` cursor without duplicates, and
 * folds live history frames in (a version saved, named, restored or
 * renamed appears at the top, or in place) without a reload. Failure modes
 * covered: a version listed twice when a frame and a page both bring it;
 * two "current" items after an autosave; an unknown frame changing the
 * list.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { VersionList } from "../../static/src/history/versions.js";

/** @param {number} id @param {number} revision @param {Object} [extra] */
const v = (id, revision, extra = {}) => ({ id, revision, kind: "compaction", label: `v${id}`, created_at: null, ...extra });
const now = (revision) => ({ id: null, revision, kind: "current", label: "Current version", created_at: null, is_current: true });
const ids = (list) => list.items.map((item) => item.id);

describe("paging", () => {
  it("walks every page by the next cursor, newest first, without duplicates", () => {
    // 230 versions served 100 at a time, as GET …/history?before=&limit= does.
    const all = Array.from({ length: 230 }, (_, i) => v(230 - i, (230 - i) * 10));
    const serve = (before) => {
      const start = before === null ? 0 : all.findIndex((x) => x.id === before) + 1;
      const page = all.slice(start, start + 100);
      return { versions: page, next: start + 100 < all.length ? page[page.length - 1].id : null };
    };
    const list = new VersionList();
    list.addPage(serve(null), { first: true });
    let pages = 1;
    while (list.hasMore) {
      assert.match(/** @type {string} */ (list.nextQuery(100)), /^\?before=\d+&limit=100$/);
      // A page overlapping the last one (a version saved meanwhile) adds nothing twice.
      list.addPage(serve(list.next));
      pages += 1;
      assert.ok(pages < 10, "the cursor must end");
    }
    assert.equal(pages, 3);
    assert.deepEqual(ids(list), all.map((x) => x.id));
    assert.equal(list.nextQuery(), null);
  });

  it("starts again from the first page", () => {
    const list = new VersionList();
    list.addPage({ versions: [v(2, 20), v(1, 10)], next: 1 }, { first: true });
    list.addPage({ versions: [v(3, 30)], next: null }, { first: true });
    assert.deepEqual(ids(list), [3]);
    assert.equal(list.hasMore, false);
  });
});

describe("live frames", () => {
  it("puts a named version at the top and withdraws the 'now' item it replaces", () => {
    const list = new VersionList();
    list.addPage({ versions: [now(12), v(1, 5, { is_current: false })], next: null }, { first: true });
    const named = v(2, 12, { kind: "named", label: "Draft", is_current: true });
    assert.equal(list.apply({ event: "named", version: named }), named);
    assert.deepEqual(ids(list), [2, 1]);
    assert.equal(list.items.filter((item) => item.is_current).length, 1);
  });

  it("keeps one item per version when a frame repeats what a page brought", () => {
    const list = new VersionList();
    list.addPage({ versions: [v(2, 20, { is_current: true }), v(1, 10)], next: null }, { first: true });
    list.apply({ event: "saved", version: v(2, 20, { is_current: true }) });
    list.apply({ event: "restored", version: v(3, 30, { kind: "restore", is_current: true }) });
    assert.deepEqual(ids(list), [3, 2, 1]);
    assert.deepEqual(list.items.map((item) => Boolean(item.is_current)), [true, false, false]);
  });

  it("keeps 'now' first when an older point is saved (the head moved on)", () => {
    const list = new VersionList();
    list.addPage({ versions: [now(40), v(1, 10)], next: null }, { first: true });
    list.apply({ event: "saved", version: v(2, 25) });
    assert.deepEqual(ids(list), [null, 2, 1]);
  });

  it("renames in place, and leaves a version not fetched yet to its page", () => {
    const list = new VersionList();
    list.addPage({ versions: [v(3, 30), v(2, 20)], next: 2 }, { first: true });
    list.apply({ event: "renamed", version: v(2, 20, { label: "Final" }) });
    assert.deepEqual(list.items.map((item) => item.label), ["v3", "Final"]);
    list.apply({ event: "renamed", version: v(1, 10, { label: "Old" }) });
    assert.deepEqual(ids(list), [3, 2]);
  });

  it("ignores frames that are not history events", () => {
    const list = new VersionList();
    list.addPage({ versions: [v(1, 10)], next: null }, { first: true });
    for (const frame of [null, {}, { event: "deleted", version: v(9, 90) }, { event: "saved" },
      { event: "saved", version: { id: "x" } }]) {
      assert.equal(list.apply(/** @type {any} */ (frame)), null);
    }
    assert.deepEqual(ids(list), [1]);
  });
});
