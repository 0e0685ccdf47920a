"""Chromium through the front door: a page survives ``kill -9`` of its document's owner.

Three real ``runworker`` processes behind Debian's HAProxy (the cluster
tests' harness, :mod:`collabdocs.devcluster`); the browser knows only the
front door. Two people open the document there and type; the worker that
owns the document is killed with ``kill -9``; both keep typing without a
reload. Checked: the pages were never reloaded (a marker set before the
kill is still there), both reconnect on their own through the front door
(the route endpoint answers on a live worker, the balancer sends the
socket to the new owner), every keystroke is stored, and both pages end
with the stored content.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from collabdocs.devcluster import SESSION_TIMEOUT, Cluster
from routing.ring import HashRing
from tests.browser.test_coediting_browser import SYNCED, _person_page, _state, _stored, _user
from tests.routing.conftest import cluster_factory  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.usefixtures("editor_bundle"),
    pytest.mark.django_db(transaction=True),
]


def _document(owner: Any, editor: Any) -> Any:
    from guardian.shortcuts import assign_perm

    from documents import services
    from documents.roles import Role, perms_for

    document = services.document_create(owner=owner, title="Front door")
    for perm in perms_for(Role.EDITOR):
        assign_perm(perm, editor, document)
    return document


def _wait_converged(pages: list[Any], document: Any, timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        states = [_state(p) for p in pages]
        rev, content = _stored(document)
        if all(
            s["status"] == "connected" and s["pending"] == 0 and s["rev"] == rev for s in states
        ):
            return content
        if time.monotonic() > deadline:
            raise AssertionError(f"no convergence: stored r{rev}, pages {states}")
        time.sleep(0.2)


def test_a_page_through_the_front_door_keeps_working_when_the_owner_is_killed(
    chromium_browser: Any,
    cluster_factory: Any,  # noqa: F811 - the fixture imported above, by name
) -> None:
    cluster: Cluster = cluster_factory(0)
    cluster.use_front_door()
    cluster.add(3)
    front = cluster.open_front_door()
    alice, bob = _user("alice"), _user("bob")
    document = _document(alice, bob)
    doc_id = str(document.public_id)
    owner = cluster.by_id(HashRing([w.worker_id for w in cluster.live()]).owner(doc_id))
    url = f"{front.url}/d/{doc_id}/"
    pages, contexts = [], []
    for person in (alice, bob):
        context, page = _person_page(chromium_browser, person, front.url)
        contexts.append(context)
        page.goto(url)
        page.wait_for_function(SYNCED, timeout=30_000)
        page.evaluate("window.__notReloaded = true")
        page.click(".ql-editor")
        pages.append(page)
    try:
        socket_urls = [p.evaluate("window.collabdocs.connection.url") for p in pages]
        assert all(u.startswith(front.ws_url) for u in socket_urls), socket_urls
        before = ("alpha ", "beta ")
        for page, word in zip(pages, before, strict=True):
            page.keyboard.type(word, delay=10)
        _wait_converged(pages, document, 20)

        killed_at = time.monotonic()
        owner.kill()
        # Type straight through the failover: the edits wait in the page.
        during = (("gamma ", "delta "), ("epsilon ", "zeta "))
        for words in during:
            for page, word in zip(pages, words, strict=True):
                page.keyboard.type(word, delay=10)
            time.sleep(1)
        content = _wait_converged(pages, document, SESSION_TIMEOUT + 25)
        took = time.monotonic() - killed_at
        print(f"front door, Chromium: both pages converged {took:.1f} s after kill -9")

        texts = [_state(p)["text"] for p in pages]
        assert texts[0] == texts[1]
        for word in (*before, *(w for ws in during for w in ws)):
            assert word.strip() in texts[0], (word, texts[0])
        assert all(_state(p)["contents"] == content for p in pages)
        assert all(p.evaluate("window.__notReloaded === true") for p in pages), "a page reloaded"
        new_urls = [p.evaluate("window.collabdocs.connection.url") for p in pages]
        assert all(u.startswith(front.ws_url) for u in new_urls), new_urls
        for page in pages:
            assert not page.errors, page.errors
    finally:
        for context in contexts:
            context.close()
