"""Chromium opens what the server accepts, and says why when it holds back.

* A document of a million 3-byte characters (3 MB of UTF-8, three times
  daphne's 1 MiB send limit; built through the store) opens, becomes
  editable, takes a typed character, and a reload shows it. The open is
  timed and printed.
* With a rate limit of one op per second, typing quickly shows the calm
  "typing faster than the server accepts" notice, which goes away by itself
  once everything is saved.
* Typing past the document limit shows the server's ``too_large`` reason
  and the text that could not be saved.
"""

from __future__ import annotations

import json
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

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("editor_bundle"),
]

WIDE = "字"
CHUNKS, CHUNK = 5, 200_000
EDITABLE = SYNCED.replace(
    "c.client.isSynchronized", "c.client.isSynchronized && c.quill.isEnabled()"
)


def _store_wide_document(document: Any) -> int:
    """Store ``WIDE * CHUNKS * CHUNK + "\\n"`` as ``document``'s text; return its head."""
    from documents.store import DjangoDocumentStore, NewOp

    ops = []
    for revision in range(1, CHUNKS + 1):
        delta = [{"insert": WIDE * CHUNK}]
        ops.append(
            NewOp(
                revision=revision,
                op_id=f"widewidewidewidewide:{revision}",
                delta=delta,
                delta_json=json.dumps(delta, ensure_ascii=False),
                author_id=document.owner_id,
            )
        )
    DjangoDocumentStore().append(document_pk=document.pk, ops=ops)
    return CHUNKS


@pytest.fixture
def alice(transactional_db: None) -> dict[str, Any]:
    """Alice and her document."""
    from documents import services

    user = _user("alice", "Alice")
    return {"user": user, "doc": services.document_create(owner=user, title="Wide")}


@pytest.fixture
def open_page(chromium_browser: Any, alice: dict[str, Any]) -> Iterator[Callable[..., Any]]:
    """Return ``open_page(server)``: Alice's page on her document (not yet waited for)."""
    contexts: list[Any] = []

    def open_(server: Any) -> Any:
        context, page = _person_page(chromium_browser, alice["user"], server.url)
        contexts.append(context)
        page.goto(f"{server.url}/d/{alice['doc'].public_id}/")
        return page

    yield open_
    for context in contexts:
        context.close()


def _wait_editable(page: Any, server: Any, timeout: int = 60_000) -> None:
    try:
        page.wait_for_function(EDITABLE, timeout=timeout)
    except Exception as exc:
        status = page.evaluate("() => document.getElementById('connection-status')?.textContent")
        raise AssertionError(
            f"the page did not become editable ({status}); errors: "
            f"{page.errors}\nserver log:\n{server.log()[-3000:]}"
        ) from exc


def test_a_document_of_three_megabytes_opens_takes_an_edit_and_reloads(
    daphne_factory: Callable[..., Any], open_page: Callable[..., Any], alice: dict[str, Any]
) -> None:
    """The split hello reaches Chromium; typing and reloading work as usual."""
    head = _store_wide_document(alice["doc"])
    server = daphne_factory()
    started = time.perf_counter()
    page = open_page(server)
    _wait_editable(page, server)
    opened = time.perf_counter() - started
    assert page.evaluate("() => window.collabdocs.quill.getLength()") == CHUNKS * CHUNK + 1
    assert page.evaluate("() => window.collabdocs.client.revision") == head
    print(
        f"opened a document of {CHUNKS * CHUNK:,} 3-byte characters in Chromium in "
        f"{opened:.2f} s (document load, 3 MB hello in parts, Quill render)"
    )

    page.evaluate("() => window.collabdocs.quill.setSelection(0, 0)")
    page.keyboard.type("!")
    page.wait_for_function(
        f"""() => {{
        const c = window.collabdocs;
        return c.client.isSynchronized && c.client.revision === {head + 1};
    }}""",
        timeout=30_000,
    )
    text = "!" + WIDE * (CHUNKS * CHUNK) + "\n"
    assert _stored(alice["doc"]) == (head + 1, [{"insert": text}])

    started = time.perf_counter()
    page.reload()
    _wait_editable(page, server)
    print(f"reloaded in {time.perf_counter() - started:.2f} s")
    assert page.evaluate("() => window.collabdocs.quill.getText(0, 3)") == "!" + WIDE * 2
    assert page.evaluate("() => window.collabdocs.quill.getLength()") == CHUNKS * CHUNK + 2
    assert page.errors == []


def test_typing_faster_than_the_rate_limit_shows_a_calm_notice_that_clears(
    daphne_factory: Callable[..., Any], open_page: Callable[..., Any], alice: dict[str, Any]
) -> None:
    """``rate_limited`` is explained while it lasts, and nothing typed is lost."""
    server = daphne_factory(COLLABDOCS_OPS_PER_SECOND="1")
    page = open_page(server)
    _wait_editable(page, server)
    page.evaluate("() => window.collabdocs.quill.setSelection(0, 0)")
    notice = page.locator('.cd-notice[data-kind="rate_limited"]')
    # One op per second: the first keystroke goes out, the next ones wait
    # behind it and are refused until the bucket refills. Keep typing
    # (a bounded number of words) until the server says so.
    for i in range(20):
        page.keyboard.type(f"word{i} ", delay=30)
        if notice.count():
            break
    notice.wait_for(state="visible", timeout=10_000)
    assert "typing faster than the server accepts" in notice.inner_text()
    assert "cd-notice-info" in (notice.get_attribute("class") or "")
    typed = page.evaluate("() => window.collabdocs.quill.getText()")
    page.wait_for_function(SYNCED, timeout=30_000)
    notice.wait_for(state="detached", timeout=5_000)
    assert _stored(alice["doc"])[1] == [{"insert": typed}]
    assert (
        page.evaluate("() => document.getElementById('connection-status').textContent")
        == "Connected · All changes saved"
    )


def test_a_change_past_the_document_limit_shows_the_servers_reason_and_the_text(
    daphne_factory: Callable[..., Any], open_page: Callable[..., Any], alice: dict[str, Any]
) -> None:
    """``too_large``: the notice says what the server said and offers the text back."""
    server = daphne_factory(COLLABDOCS_MAX_DOC_LENGTH="16")
    page = open_page(server)
    _wait_editable(page, server)
    page.evaluate("() => window.collabdocs.quill.setSelection(0, 0)")
    page.keyboard.type("0123456789abcdefghij", delay=20)
    notice = page.locator(".cd-notice", has_text="The server said")
    notice.wait_for(state="visible", timeout=15_000)
    message = notice.inner_text()
    assert "too large to save" in message
    assert "more than the limit of 16" in message
    unsaved = notice.locator("textarea.cd-unsaved")
    assert unsaved.count() == 1
    lost = unsaved.input_value()
    assert lost and lost in "0123456789abcdefghij"
    page.wait_for_function(SYNCED, timeout=30_000)
    stored = _stored(alice["doc"])[1]
    assert len(stored[0]["insert"]) <= 16
