/**
 * The pure parts of images in the editor: where an upload lands while the
 * document changes (track.js), what a pasted image's source means
 * (classify.js), the paste's stand-ins, and what the person is told
 * (uploads.js describeTally, upload.js refusal).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import Delta from "quill-delta";

import {
  PENDING,
  classifySource,
  dataUrlToBlob,
  fileNameFor,
  looksLikeImage,
  takePending,
  widthValue,
} from "../../static/src/editor/images/classify.js";
import { PositionTracker } from "../../static/src/editor/images/track.js";
import { refusal } from "../../static/src/editor/images/upload.js";
import { describeTally } from "../../static/src/editor/images/uploads.js";
import { imageAllowed } from "../../static/src/editor/schema.js";
import { randomChange, rng, seeds } from "./helpers.mjs";

const POLICY = { videoHosts: [], imageDataMaxBytes: 2000, imagePathPrefix: "/media/" };
const ORIGIN = "http://127.0.0.1:8000";
const allowed = (src) => imageAllowed(src, POLICY);
const UUID = "0b7e1a52-5c1d-4c47-9d0e-2f3a4b5c6d7e";
const PNG_1x1 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgAAIAAAUAAen63NgAAAAASUVORK5CYII=";

describe("PositionTracker", () => {
  it("keeps its place before text typed at it, moves with text before it", () => {
    const tracker = new PositionTracker();
    const at = tracker.track(5);
    tracker.transform(new Delta().retain(5).insert("typed"));
    assert.equal(at.index, 5, "typing at the position goes after the image's place");
    tracker.transform(new Delta().retain(2).insert("abc"));
    assert.equal(at.index, 8);
    tracker.transform(new Delta().retain(1).delete(4));
    assert.equal(at.index, 4);
    tracker.transform(new Delta().retain(2).delete(10));
    assert.equal(at.index, 2, "a deletion around it brings it to the deletion's start");
    tracker.release(at);
    tracker.transform(new Delta().insert("zzz"));
    assert.equal(at.index, 2, "a released position no longer moves");
    assert.equal(at.gone, true);
    assert.equal(tracker.size, 0);
  });

  it("refuses a position that is not an index", () => {
    const tracker = new PositionTracker();
    assert.throws(() => tracker.track(-1), RangeError);
    assert.throws(() => tracker.track(1.5), RangeError);
  });

  it("clamps positions to a shorter document", () => {
    const tracker = new PositionTracker();
    const at = tracker.track(40);
    tracker.clamp(10);
    assert.equal(at.index, 9);
  });

  it("agrees with a marker carried through random changes (seeded)", (t) => {
    const runs = seeds(30);
    t.diagnostic(`seeds ${runs.join(",")} (SEED=<n> reruns one)`);
    for (const seed of runs) {
      const random = rng(seed);
      let doc = new Delta().insert("hello world\nsecond line\n");
      for (let round = 0; round < 40; round += 1) {
        const tracker = new PositionTracker();
        const p = random.int(0, doc.length() - 1);
        const tracked = tracker.track(p);
        // The marker stands where the image will go: inserted first, it
        // wins ties, as the tracker's priority says.
        const marker = new Delta().retain(p).insert("\u0001");
        let plain = doc;
        let marked = doc.compose(marker);
        let pendingMarker = marker;
        for (let step = random.int(1, 5); step > 0; step -= 1) {
          const change = randomChange(random, plain);
          tracker.transform(change);
          const carried = pendingMarker.transform(change, true);
          pendingMarker = change.transform(pendingMarker, false);
          plain = plain.compose(change);
          marked = marked.compose(carried);
        }
        const text = marked.ops.map((op) => (typeof op.insert === "string" ? op.insert : "\uFFFC")).join("");
        assert.equal(tracked.index, text.indexOf("\u0001"), `seed ${seed} round ${round}`);
        doc = plain.length() > 400 ? new Delta().insert("reset\n") : plain;
      }
    }
  });
});

describe("classifySource", () => {
  const classify = (src) => classifySource(src, POLICY, allowed, ORIGIN);

  it("copies images of the storage, relative or absolute on this origin", () => {
    assert.deepEqual(classify(`/media/i/${UUID}.png`), { kind: "copy", src: `/media/i/${UUID}.png` });
    assert.deepEqual(classify(`${ORIGIN}/media/i/${UUID}.webp`), { kind: "copy", src: `/media/i/${UUID}.webp` });
  });

  it("uploads data: images whatever their size", () => {
    assert.equal(classify(`data:image/png;base64,${PNG_1x1}`).kind, "data");
    assert.equal(classify(`data:image/png;base64,${"A".repeat(5000)}`).kind, "data");
  });

  it("fetches remote images, including this site's other paths on another origin", () => {
    assert.equal(classify("https://example.com/pic.png").kind, "remote");
    assert.equal(classify(`http://127.0.0.1:9/media/i/${UUID}.png`).kind, "remote");
  });

  it("keeps other storage paths and drops unreadable sources", () => {
    assert.equal(classify("/media/legacy/pic.png").kind, "keep");
    for (const src of ["blob:http://x/1", "file:///C:/pic.png", "cid:part1", "", "/media/i/../x.png", "javascript:alert(1)"]) {
      assert.notEqual(classify(src).kind, "copy", src);
      assert.ok(["drop", "keep"].includes(classify(src).kind), src);
    }
    assert.equal(classify("blob:http://x/1").kind, "drop");
    assert.equal(classify(`/media/i/${UUID}.svg`).kind, "keep", "not a stored image name: only the policy's verdict");
  });
});

describe("data: URLs and files", () => {
  it("decodes a base64 image into a typed Blob", async () => {
    const blob = dataUrlToBlob(`data:image/png;base64,${PNG_1x1}`);
    assert.ok(blob);
    assert.equal(blob.type, "image/png");
    const bytes = new Uint8Array(await blob.arrayBuffer());
    assert.deepEqual([...bytes.slice(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  });

  it("refuses types the server does not take and bad bodies", () => {
    assert.equal(dataUrlToBlob("data:image/svg+xml;base64,PHN2Zz4="), null);
    assert.equal(dataUrlToBlob("data:image/png,rawtext"), null);
    assert.equal(dataUrlToBlob("data:image/png;base64,@@@"), null);
  });

  it("names files and recognises images", () => {
    assert.equal(fileNameFor("image/jpeg"), "pasted-image.jpg");
    assert.equal(fileNameFor("application/pdf"), "pasted-image.img");
    assert.ok(looksLikeImage({ type: "image/gif" }));
    assert.ok(looksLikeImage({ type: "", name: "Photo.JPEG" }));
    assert.ok(!looksLikeImage({ type: "application/pdf", name: "x.png" }));
    assert.ok(!looksLikeImage({ type: "", name: "notes.docx" }));
  });

  it("keeps dragged widths between 16 px and the editor's width", () => {
    assert.equal(widthValue(300.4, 700), "300");
    assert.equal(widthValue(2, 700), "16");
    assert.equal(widthValue(5000, 700), "700");
    assert.match(widthValue(123456, 20000), /^[1-9][0-9]{0,3}$/, "inside the schema's pattern");
  });
});

describe("takePending", () => {
  it("takes the stand-ins out and says where they were", () => {
    const pasted = new Delta()
      .insert("ab")
      .insert({ [PENDING]: 0 }, { alt: "chart" })
      .insert("cd")
      .insert({ image: "/media/x.png" })
      .insert({ [PENDING]: 1 })
      .insert("\n");
    const { delta, pending } = takePending(pasted, new Delta());
    assert.deepEqual(delta.ops, [{ insert: "abcd" }, { insert: { image: "/media/x.png" } }, { insert: "\n" }]);
    assert.deepEqual(pending, [
      { offset: 2, id: 0, attributes: { alt: "chart" } },
      { offset: 5, id: 1, attributes: undefined },
    ]);
  });
});

describe("what the person is told", () => {
  const tally = (over) => ({ refused: 0, dropped: 0, inserted: 0, notEditable: 0, errors: [], ...over });

  it("says nothing when every image went in", () => {
    assert.deepEqual(describeTally(tally({ inserted: 3 })), { message: "", tone: "info" });
  });

  it("sums a paste's outcomes into one notice", () => {
    const { message, tone } = describeTally(tally({ refused: 2, notEditable: 1, errors: ["The image is too large.", "The image is too large."] }));
    assert.match(message, /^2 images were left out: they belong to documents you can’t open\./);
    assert.match(message, /An uploaded image wasn’t added: you can’t edit this document now/);
    assert.equal(message.split("The image is too large").length, 2, "the same error is said once");
    assert.equal(tone, "error");
    assert.equal(describeTally(tally({ refused: 1 })).tone, "warning");
  });

  it("uses the server's sentence for a refused upload, ours otherwise", () => {
    const said = refusal(413, { error: "quota_exceeded", message: "This document's images use all of its 200 MB." });
    assert.equal(said.code, "quota_exceeded");
    assert.equal(said.message, "This document's images use all of its 200 MB.");
    assert.equal(refusal(413, null).message, "The image is too large.");
    assert.equal(refusal(502, null).code, "bad_answer");
    assert.match(refusal(502, null).message, /answered 502/);
  });
});
