"""A long formatted paste in Chromium is sent in pieces and lands whole.

The server refuses a change of more than ``MAX_CHANGE_OPS`` ops
(``too_large``) and bounds the CPU a socket may use (``rate_limited`` with
``retry_after``). Pasting 3,000 alternating bold and plain runs makes one
Quill change of about 3,000 ops; the OT client sends it as several changes
under the limit, one per ack (static/src/editor/ot-client.js).

* With the default limit (1,000), every piece is acked, no notice is
  shown, the page never reloads, the stored content equals Quill's, and a
  reload shows it.
* With a limit of 200 and a CPU budget small enough that the pieces are
  refused with ``rate_limited``, the page resends after ``retry_after``
  and the paste still lands whole; the notice goes away by itself.

The page's WebSocket traffic is recorded by an init script (ops sent with
their size, errors received); the figures are printed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser.test_coediting_browser import (
    SYNCED,
    _person_page,
    _stored,
    _user,
)
from tests.browser.test_paste_browser import PASTE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("editor_bundle"),
]

RUNS = 3000
#: Runs per pasted paragraph: a long document, not one endless line.
PER_PARAGRAPH = 30
#: How long a paste may take to be saved (it takes a few seconds).
LAND_MS = 90_000

# Record what the page sends and the errors it gets, before any page script runs.
RECORD = """(() => {
  const log = { ops: [], errors: [] };
  window.__wire = log;
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (!this.__recorded) {
      this.__recorded = true;
      this.addEventListener("message", (event) => {
        try {
          const m = JSON.parse(event.data);
          if (m.type === "error") log.errors.push({ code: m.code, id: m.id || null });
        } catch (err) { /* part frames of a large hello are JSON too; nothing else comes */ }
      });
    }
    try {
      const m = JSON.parse(data);
      if (m.type === "op") log.ops.push({ id: m.id, rev: m.rev, ops: m.delta.length });
    } catch (err) { /* not JSON: not ours to record */ }
    return send.call(this, data);
  };
})();"""


def _runs_html() -> str:
    """Return HTML of RUNS runs alternating bold and plain, in paragraphs."""
    paragraphs = []
    for start in range(0, RUNS, PER_PARAGRAPH):
        runs = []
        for i in range(start, min(start + PER_PARAGRAPH, RUNS)):
            runs.append(f"<strong>b{i}.</strong>" if i % 2 == 0 else f"p{i}.")
        paragraphs.append("<p>" + "".join(runs) + "</p>")
    return "".join(paragraphs)


@pytest.fixture
def alice(transactional_db: None) -> dict[str, Any]:
    """Alice and her empty document."""
    from documents import services

    user = _user("alice", "Alice")
    return {"user": user, "doc": services.document_create(owner=user, title="Long paste")}


@pytest.fixture
def open_page(chromium_browser: Any, alice: dict[str, Any]) -> Iterator[Callable[..., Any]]:
    """Return ``open_page(server)``: Alice's connected page, its traffic recorded."""
    contexts: list[Any] = []

    def open_(server: Any) -> Any:
        context, page = _person_page(
            chromium_browser, alice["user"], server.url, init_script=RECORD
        )
        contexts.append(context)
        page.goto(f"{server.url}/d/{alice['doc'].public_id}/")
        page.wait_for_function(SYNCED, timeout=30_000)
        return page

    yield open_
    for context in contexts:
        context.close()


def _paste_and_land(page: Any, server: Any) -> dict[str, Any]:
    """Paste the runs, wait (bounded) until all is acked; return what was seen."""
    started = time.monotonic()
    page.evaluate(PASTE, _runs_html())
    # The paste became local content at once; then it is sent piece by piece.
    page.wait_for_function(
        f"() => window.collabdocs.quill.getText().includes('p{RUNS - 1}.')", timeout=30_000
    )
    try:
        page.wait_for_function(SYNCED, timeout=LAND_MS)
    except Exception as exc:
        wire = page.evaluate("() => window.__wire")
        raise AssertionError(
            f"the paste was not all acked in {LAND_MS} ms: state "
            f"{page.evaluate('() => window.collabdocs.client.stateName')}, "
            f"{len(wire['ops'])} ops sent, errors {wire['errors'][-5:]}\n"
            f"server log:\n{server.log()[-3000:]}"
        ) from exc
    seconds = time.monotonic() - started
    wire = page.evaluate("() => window.__wire")
    pieces = [op for op in wire["ops"] if op["ops"] > 2]
    sizes = [p["ops"] for p in pieces]
    print(
        f"{RUNS} runs: {len(wire['ops'])} op frames sent, {len(set(p['id'] for p in pieces))} "
        f"pieces of {min(sizes)}-{max(sizes)} ops, {len(wire['errors'])} errors "
        f"{sorted({e['code'] for e in wire['errors']})}, saved in {seconds:.1f} s"
    )
    return {"wire": wire, "pieces": pieces, "seconds": seconds}


def _assert_landed(page: Any, document: Any) -> list[dict]:
    """Check the stored content is Quill's and holds every run; return it."""
    quill = page.evaluate("() => window.collabdocs.quill.getContents().ops")
    stored = _stored(document)[1]
    assert stored == quill, "the server's document differs from the editor's"
    bold = [op for op in stored if (op.get("attributes") or {}).get("bold")]
    assert len(bold) == RUNS // 2, f"{len(bold)} bold runs stored"
    text = "".join(op["insert"] for op in stored if isinstance(op["insert"], str))
    for i in (0, 1, RUNS // 2, RUNS - 2, RUNS - 1):
        assert (f"b{i}." if i % 2 == 0 else f"p{i}.") in text
    assert page.evaluate("() => window.collabdocs.connection.hellos") == 1, "the page reloaded"
    assert page.evaluate("() => window.collabdocs.client.pendingEdits") == 0
    return stored


def test_a_paste_of_3000_formatted_runs_is_sent_in_pieces_and_saved(
    live_daphne: Any, open_page: Callable[..., Any], alice: dict[str, Any]
) -> None:
    """Every piece fits MAX_CHANGE_OPS, is acked, and the document equals Quill's."""
    page = open_page(live_daphne)
    assert (
        page.evaluate("() => document.getElementById('editor-app').dataset.maxChangeOps") == "1000"
    )
    assert page.evaluate("() => window.collabdocs.client.maxChangeOps") == 1000
    seen = _paste_and_land(page, live_daphne)
    sizes = [p["ops"] for p in seen["pieces"]]
    assert len(sizes) >= 3 and max(sizes) <= 900, sizes
    assert sum(sizes) >= RUNS, "the pieces carry every run"
    assert not [e for e in seen["wire"]["errors"] if e["code"] != "rate_limited"], seen["wire"][
        "errors"
    ]
    stored = _assert_landed(page, alice["doc"])
    assert page.locator(".cd-notice").count() == 0, page.locator(".cd-notices").inner_text()
    assert "All changes saved" in page.locator("#connection-status").inner_text()
    page.reload()
    page.wait_for_function(SYNCED, timeout=30_000)
    assert page.evaluate("() => window.collabdocs.quill.getContents().ops") == stored
    assert page.errors == []


def test_a_paste_refused_for_cpu_still_lands_after_retry_after(
    daphne_factory: Callable[..., Any], open_page: Callable[..., Any], alice: dict[str, Any]
) -> None:
    """Pieces refused with rate_limited are resent after retry_after; nothing is lost."""
    server = daphne_factory(
        COLLABDOCS_MAX_CHANGE_OPS="200",
        # A piece of 180 formatted runs costs a few ms; a 2 ms burst and
        # 20 ms per second make the next pieces wait for the budget.
        COLLABDOCS_SOCKET_CPU_MS_PER_SECOND="20",
        COLLABDOCS_CPU_BURST_MS="2",
    )
    page = open_page(server)
    assert page.evaluate("() => window.collabdocs.client.sendOps") == 180
    seen = _paste_and_land(page, server)
    sizes = [p["ops"] for p in seen["pieces"]]
    assert len({p["id"] for p in seen["pieces"]}) >= RUNS // 180 and max(sizes) <= 180, sizes
    codes = [e["code"] for e in seen["wire"]["errors"]]
    assert "rate_limited" in codes, f"the CPU budget never refused a piece: {codes}"
    assert set(codes) == {"rate_limited"}, codes
    # Each refused piece was resent under its own id until acked (presence
    # frames are refused too, without an id).
    refused = {e["id"] for e in seen["wire"]["errors"] if e["id"]}
    assert refused
    sent = [op["id"] for op in seen["wire"]["ops"]]
    assert all(sent.count(op_id) >= 2 for op_id in refused), "a refused piece was not resent"
    _assert_landed(page, alice["doc"])
    page.locator('.cd-notice[data-kind="rate_limited"]').wait_for(state="detached", timeout=5_000)
    assert page.errors == []
