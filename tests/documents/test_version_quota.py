"""Version quotas: named and restored versions are bounded by count and by size.

Everything goes through the history panel's HTTP endpoints, signed in as the
persona, as the panel does; the bounds are lowered per test through
``settings.COLLABDOCS`` (env ``COLLABDOCS_MAX_NAMED_VERSIONS`` and
``COLLABDOCS_MAX_VERSION_BYTES`` in a deployment).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse

from documents import history, services
from documents.content import document_content
from documents.models import Document, DocumentVersion, Operation, VersionKind
from tests.browser.test_coediting_browser import SYNCED, _screenshot, _session_key, _user
from tests.documents.conftest import World, client_as

QUOTA_KINDS = (VersionKind.NAMED, VersionKind.RESTORE)


def _post(client: Client, url: str, body: dict | None = None) -> Any:
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def _write(doc: Document, delta: list[dict], author: Any) -> None:
    """Append one op after the document's head (as the authority stores them)."""
    doc.refresh_from_db()
    head = doc.head_revision + 1
    Operation.objects.create(
        document=doc, revision=head, op_id=f"{'q' * 16}:{head}", delta=delta, author=author
    )
    Document.objects.filter(pk=doc.pk).update(head_revision=head)
    doc.refresh_from_db()


def _name(client: Client, doc: Document, name: str) -> Any:
    return _post(client, reverse("documents:history_name", args=[doc.public_id]), {"name": name})


def _restore(client: Client, doc: Document, version_id: int) -> Any:
    return _post(client, reverse("documents:history_restore", args=[doc.public_id, version_id]))


def _kept(doc: Document) -> list[tuple[str, str]]:
    """Return (kind, name) of every version of ``doc``, oldest first."""
    return list(
        DocumentVersion.objects.filter(document=doc).order_by("pk").values_list("kind", "name")
    )


@pytest.fixture
def quota(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Return ``quota(count=..., size=...)`` lowering the bounds for one test."""

    def lower(*, count: int | None = None, size: int | None = None) -> None:
        if count is not None:
            monkeypatch.setitem(settings.COLLABDOCS, "MAX_NAMED_VERSIONS", count)
        if size is not None:
            monkeypatch.setitem(settings.COLLABDOCS, "MAX_VERSION_BYTES", size)

    return lower


def test_the_defaults_bound_both_count_and_size() -> None:
    assert settings.COLLABDOCS["MAX_NAMED_VERSIONS"] == 100
    assert settings.COLLABDOCS["MAX_VERSION_BYTES"] == 50 * 1024 * 1024


def test_naming_past_the_count_is_refused_and_stores_nothing(
    world: World, quota: Callable[..., None]
) -> None:
    quota(count=3)
    doc = world.doc
    editor = client_as(world, "editor")
    for n in range(3):
        _write(doc, [{"insert": f"draft {n} "}], world.editor)
        response = _name(editor, doc, f"v{n}")
        assert response.status_code == 200, response.content
    before = _kept(doc)
    _write(doc, [{"insert": "one more "}], world.editor)
    refused = _name(editor, doc, "v3")
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "This document already keeps 3 named or restored versions, "
        "the most it may keep (3), so this version wasn’t saved."
    }
    assert _kept(doc) == before
    # The panel's list is what it was: the current state, then v2, v1, v0.
    listed = (
        client_as(world, "owner").get(reverse("documents:history", args=[doc.public_id])).json()
    )
    assert [v["label"] for v in listed["versions"]] == [
        "Current version",
        "v2",
        "v1",
        "v0",
        "Created",
    ]
    # The bound is per document: another document of the same people is free.
    fresh = services.document_create(owner=world.owner, title="Other")
    assert _name(client_as(world, "owner"), fresh, "first").status_code == 200


def test_naming_past_the_size_is_refused_with_the_sizes(
    world: World, quota: Callable[..., None]
) -> None:
    doc = world.doc
    owner = client_as(world, "owner")
    _write(doc, [{"insert": "x" * 20_000}], world.owner)
    size = history.version_usage(document=doc).bytes
    assert size == 0  # the initial version does not count
    assert _name(owner, doc, "first").status_code == 200
    one = history.version_usage(document=doc).bytes
    assert 20_000 < one < 20_100  # the JSON text of [{"insert": "xx…x\n"}]
    quota(size=2 * one + one // 2)
    assert _name(owner, doc, "second").status_code == 200
    before = _kept(doc)
    refused = _name(owner, doc, "third")
    assert refused.status_code == 400
    message = refused.json()["error"]
    assert message.startswith(
        "This document’s named and restored versions already take 40.0 kB "
        "of the 50.0 kB they may use, and this one needs 20.0 kB"
    ), message
    assert message.endswith("so this version wasn’t saved.")
    assert _kept(doc) == before
    assert history.version_usage(document=doc).count == 2


def test_a_version_bigger_than_the_whole_budget_is_refused(
    world: World, quota: Callable[..., None]
) -> None:
    quota(size=4096)
    doc = world.doc
    _write(doc, [{"insert": "é" * 3000}], world.owner)  # 6,000 UTF-8 bytes: bytes, not characters
    refused = _name(client_as(world, "editor"), doc, "too big")
    assert refused.status_code == 400 and "wasn’t saved" in refused.json()["error"]
    assert not DocumentVersion.objects.filter(document=doc, kind=VersionKind.NAMED).exists()


def test_viewers_are_refused_before_the_quota_is_looked_at(
    world: World, quota: Callable[..., None]
) -> None:
    quota(count=1)
    assert _name(client_as(world, "editor"), world.doc, "only").status_code == 200
    assert _name(client_as(world, "viewer"), world.doc, "nope").status_code == 403


# Committed for real: a restore is stored by the authority on connections of
# its own, and the concurrency test runs requests on several connections.
live = pytest.mark.django_db(transaction=True)


@live
def test_restores_count_and_a_restore_past_the_quota_changes_nothing(
    world: World, quota: Callable[..., None]
) -> None:
    quota(count=3)
    doc = world.doc
    editor = client_as(world, "editor")
    _write(doc, [{"insert": "First"}], world.editor)
    first = _name(editor, doc, "v1").json()["id"]
    _write(doc, [{"retain": 5}, {"insert": " and second"}], world.editor)
    assert _name(editor, doc, "v2").status_code == 200
    # A restore is a full copy made on request: it takes the third place.
    restored = _restore(editor, doc, first)
    assert restored.status_code == 200, restored.content
    assert document_content(doc) == [{"insert": "First\n"}]
    _write(doc, [{"retain": 5}, {"insert": " again"}], world.editor)
    refused = _name(editor, doc, "v3")
    assert refused.status_code == 400
    assert "already keeps 3 named or restored versions" in refused.json()["error"]
    # Past the quota a restore is refused before the change is made.
    doc.refresh_from_db()
    head, versions = doc.head_revision, _kept(doc)
    again = _restore(editor, doc, first)
    assert again.status_code == 400
    assert again.json()["error"].endswith("so the version wasn’t restored; nothing changed.")
    doc.refresh_from_db()
    assert doc.head_revision == head and Operation.objects.filter(document=doc).count() == head
    assert document_content(doc) == [{"insert": "First again\n"}]
    assert _kept(doc) == versions


@live
def test_two_people_naming_the_last_place_at_once_store_one(
    world: World, quota: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    quota(count=2)
    # Widen the window between storing the row and checking the quota, so
    # that without the quota lock every request would see room for itself.
    measure = history._version_bytes
    monkeypatch.setattr(history, "_version_bytes", lambda v: (time.sleep(0.2), measure(v))[1])
    doc = world.doc
    assert _name(client_as(world, "owner"), doc, "kept").status_code == 200
    clients = [
        client_as(world, persona) for persona in ("editor", "sharer", "owner", "group_member")
    ]
    barrier = threading.Barrier(len(clients))
    answers: list[int] = []

    def name(client: Client, n: int) -> None:
        try:
            barrier.wait(10)
            answers.append(_name(client, doc, f"race {n}").status_code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=name, args=(c, n)) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(answers) == [200, 400, 400, 400]
    assert DocumentVersion.objects.filter(document=doc, kind__in=QUOTA_KINDS).count() == 2


# --------------------------------------------------------------------------
# In the panel (Chromium)
# --------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.e2e
@live
def test_the_panel_shows_why_a_version_was_not_saved(
    chromium_browser: Any, daphne_factory: Callable[..., Any]
) -> None:
    server = daphne_factory(COLLABDOCS_MAX_NAMED_VERSIONS="1")
    alice = _user("alice", "Alice")
    doc = services.document_create(owner=alice, title="Minutes")
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        context.add_cookies(
            [{"name": "sessionid", "value": _session_key(alice), "url": server.url}]
        )
        page = context.new_page()
        page.goto(f"{server.url}/d/{doc.public_id}/")
        page.wait_for_function(SYNCED, timeout=20_000)
        page.click("[data-history-open]")
        panel = page.locator("#history-panel")
        panel.wait_for(state="visible")
        page.wait_for_function(
            "() => document.getElementById('history-panel').dataset.loaded === 'true'"
        )
        for name in ("Kept", "One too many"):
            page.fill("#history-name-input", name)
            page.click('[data-history-form="name"] button[type="submit"]')
            status = panel.locator(
                '.history-status[data-kind="ok"], .history-status[data-kind="error"]'
            )
            status.wait_for(timeout=20_000)
            if name == "Kept":
                panel.locator(".history-item", has_text="Kept").wait_for()
        error = panel.locator('.history-status[data-kind="error"]')
        error.wait_for(timeout=20_000)
        assert error.inner_text() == (
            "This document already keeps 1 named or restored version, "
            "the most it may keep (1), so this version wasn’t saved."
        )
        assert panel.locator(".history-item", has_text="One too many").count() == 0
        _screenshot(page, "history-version-quota")
    finally:
        context.close()
    assert list(
        DocumentVersion.objects.filter(document=doc, kind=VersionKind.NAMED).values_list(
            "name", flat=True
        )
    ) == ["Kept"]


@live
def test_the_admin_restore_is_refused_past_the_quota_too(
    world: World, quota: Callable[..., None]
) -> None:
    quota(count=1)
    doc = world.doc
    _write(doc, [{"insert": "kept"}], world.editor)
    assert _name(client_as(world, "editor"), doc, "only").status_code == 200
    initial = doc.versions.get(kind=VersionKind.INITIAL)
    response = client_as(world, "superuser").post(
        reverse("admin:documents_documentversion_changelist"),
        {"action": "restore_version", "_selected_action": [initial.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "so the version wasn’t restored; nothing changed." in response.content.decode()
    doc.refresh_from_db()
    assert doc.head_revision == 1 and document_content(doc) == [{"insert": "kept\n"}]
    assert history.version_usage(document=doc).count == 1
