"""Every persona against every page and endpoint, with the expected answer.

Outcomes: an HTTP status, ``"login"`` (redirect to the sign-in page),
``"admin_login"`` (redirect to the admin's sign-in page) or ``"redirect"``
(any other redirect: the action worked and moved on).

Personas (tests/documents/conftest.py): ``viewer``/``commenter``/``editor``/
``sharer`` hold direct shares (the sharer is an editor who can share),
``group_member`` is an editor through the group "team", ``group_commenter``
a commenter through the group "reviewers", ``link_viewer``/
``link_commenter``/``link_editor`` opened the share link while it granted
view/comment/edit, ``staff`` is staff with global
document permissions and ``superuser`` is a superuser: neither gets anything
in the pages, only in the admin.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from documents import live, services
from documents.live import AppliedChange
from documents.models import Document, DocumentVersion, Operation
from review.models import Decision, Message, Thread
from tests.documents.conftest import PERSONAS, World, client_as, persona_user

EDITORS = {"editor", "sharer", "owner", "link_editor", "group_member"}
#: Commenters by a direct share, a link and a group, and everyone who edits.
COMMENTERS = EDITORS | {"commenter", "link_commenter", "group_commenter"}
VIEWERS = COMMENTERS | {"viewer", "link_viewer"}
SHARERS = {"sharer", "owner"}
SIGNED_IN = set(PERSONAS) - {"anonymous"}
ADMINS = {"staff", "superuser"}


def page(everyone: Any, *, anonymous: Any = "login", **overrides: Any) -> dict[str, Any]:
    """Return one outcome for every signed-in persona, with exceptions."""
    expected = {persona: everyone for persona in SIGNED_IN}
    expected["anonymous"] = anonymous
    expected.update(overrides)
    return expected


def by_access(
    *, allowed: set[str], ok: Any, visible: Any, hidden: Any = 404, anonymous: Any
) -> dict[str, Any]:
    """Return the expected answer per persona.

    ``ok`` for ``allowed``, ``visible`` for others who see the document,
    else ``hidden``.
    """
    expected: dict[str, Any] = {"anonymous": anonymous}
    for persona in SIGNED_IN:
        if persona in allowed:
            expected[persona] = ok
        elif persona in VIEWERS:
            expected[persona] = visible
        else:
            expected[persona] = hidden
    return expected


def admin_page() -> dict[str, Any]:
    """Staff and superusers get the admin page; everyone else its sign-in page."""
    return {persona: 200 if persona in ADMINS else "admin_login" for persona in PERSONAS}


def trash(world: World, user: Any) -> None:
    services.document_trash(document=world.doc, actor=world.owner)


#: The comment thread the review endpoints act on: started by the owner.
THREAD = "matrixthread0001"


def thread(world: World, user: Any) -> None:
    """Start the owner's thread, with a reply by the acting persona (if signed in).

    The reply is made in the database directly (as if the persona wrote it
    while it could), so "own message" rules can be checked for everyone.
    """
    started = Thread.objects.create(
        document=world.doc, public_id=THREAD, quote="plan", created_by=world.owner
    )
    Message.objects.create(thread=started, author=world.owner, body="What about Q3?")
    if user is not None:
        Message.objects.create(thread=started, author=user, body="My reply")


def first_message(world: World) -> int:
    return (
        Message.objects.filter(thread__public_id=THREAD)
        .order_by("pk")
        .values_list("pk", flat=True)[0]
    )


def last_message(world: World) -> int:
    return (
        Message.objects.filter(thread__public_id=THREAD)
        .order_by("-pk")
        .values_list("pk", flat=True)[0]
    )


def decision_by(*, accept: bool, owners: bool = False) -> Callable[[World, Any], None]:
    """Return a setup storing a decision at revision 1, by the persona or the owner."""

    def setup(world: World, user: Any) -> None:
        Decision.objects.create(
            document=world.doc,
            revision=1,
            op_id="matrix:decision",
            actor=world.owner if owners else user,
            accept=accept,
            decided=1,
        )

    return setup


def own_mark(user: Any) -> str:
    """Return a suggestion mark made by ``user`` (any signed-in user id works)."""
    return f"{user.pk if user is not None else 1}:lx3k9a1:ab12"


@dataclass
class Endpoint:
    """One page or endpoint: how to call it and what each persona gets."""

    name: str
    method: str
    url: Callable[[World], str]
    expected: dict[str, Any]
    #: The body, from the world and the acting user (None: anonymous).
    data: Callable[[World, Any], dict] | None = None
    json: bool = False
    setup: Callable[[World, Any], None] = field(default=lambda world, user: None)
    #: Whether the endpoint changes a live document through the live port.
    live: bool = False

    def call(self, client: Client, world: World, user: Any) -> Any:
        url = self.url(world)
        if self.method == "GET":
            return client.get(url)
        data = self.data(world, user) if self.data else {}
        if self.json:
            return client.generic(self.method, url, json.dumps(data), "application/json")
        return client.post(url, data)


def doc_url(name: str) -> Callable[[World], str]:
    return lambda world: reverse(f"documents:{name}", args=[world.doc.public_id])


def api(
    name: str, data: Callable[[World, Any], dict], allowed: set[str], *, url_name: str = ""
) -> Endpoint:
    return Endpoint(
        name,
        "POST",
        doc_url(url_name or name),
        by_access(allowed=allowed, ok=200, visible=403, anonymous=401),
        data=data,
        json=True,
    )


def review_url(tail: str) -> Callable[[World], str]:
    """Return the URL of a review endpoint (``{thread}`` and ``{first}``/``{last}`` filled)."""

    def url(world: World) -> str:
        path = tail.format(
            thread=THREAD,
            first=first_message(world) if "{first}" in tail else "",
            last=last_message(world) if "{last}" in tail else "",
        )
        return f"/api/docs/{world.doc.public_id}/{path}"

    return url


def review(
    name: str,
    method: str,
    tail: str,
    allowed: set[str],
    *,
    ok: int = 200,
    data: Callable[[World, Any], dict] | None = None,
    live: bool = False,
) -> Endpoint:
    """A review endpoint acting on the owner's thread (set up first)."""
    return Endpoint(
        name,
        method,
        review_url(tail),
        by_access(allowed=allowed, ok=ok, visible=403, anonymous=401),
        data=data,
        json=method != "GET",
        setup=thread,
        live=live,
    )


def version_url(name: str, tail: str = "") -> Callable[[World], str]:
    """Return the URL of a history endpoint about the document's first version."""

    def url(world: World) -> str:
        version = DocumentVersion.objects.filter(document=world.doc).order_by("pk").first()
        assert version is not None
        args: list[Any] = [world.doc.public_id, version.pk]
        return reverse(f"documents:{name}", args=args + ([tail] if tail else []))

    return url


def first_version_changed(world: World, user: Any) -> None:
    """Give the document a second revision, so restoring the first changes something."""
    Operation.objects.create(document=world.doc, revision=1, op_id="m:1", delta=[{"insert": "x"}])
    Document.objects.filter(pk=world.doc.pk).update(head_revision=1)


ENDPOINTS = [
    Endpoint("list_mine", "GET", lambda w: reverse("documents:list"), page(200)),
    Endpoint("list_shared", "GET", lambda w: reverse("documents:shared"), page(200)),
    Endpoint("list_trash", "GET", lambda w: reverse("documents:trash"), page(200)),
    Endpoint("search", "GET", lambda w: reverse("documents:list") + "?q=plan", page(200)),
    Endpoint("create", "POST", lambda w: reverse("documents:create"), page("redirect")),
    Endpoint(
        "detail",
        "GET",
        doc_url("detail"),
        by_access(allowed=VIEWERS, ok=200, visible=200, anonymous="login"),
    ),
    Endpoint(
        "detail_trashed",
        "GET",
        doc_url("detail"),
        by_access(allowed={"owner"}, ok=200, visible=404, anonymous="login"),
        setup=trash,
    ),
    Endpoint(
        "rename",
        "POST",
        doc_url("rename"),
        by_access(allowed=EDITORS, ok=200, visible=403, anonymous=401),
        data=lambda w, u: {"title": "Renamed"},
        json=True,
    ),
    Endpoint(
        "trash",
        "POST",
        doc_url("trash_document"),
        by_access(allowed={"owner"}, ok="redirect", visible=403, anonymous="login"),
    ),
    Endpoint(
        "restore",
        "POST",
        doc_url("restore"),
        by_access(allowed={"owner"}, ok="redirect", visible=404, anonymous="login"),
        setup=trash,
    ),
    Endpoint(
        "delete_forever",
        "POST",
        doc_url("delete"),
        by_access(allowed={"owner"}, ok="redirect", visible=404, anonymous="login"),
        setup=trash,
    ),
    Endpoint(
        "share_get",
        "GET",
        doc_url("share"),
        by_access(allowed=VIEWERS, ok=200, visible=200, anonymous=401),
    ),
    api("share", lambda w, u: {"identifier": "newcomer", "role": "viewer"}, SHARERS),
    api("share_role", lambda w, u: {"user": w.target.pk, "role": "editor"}, SHARERS),
    api("share_revoke", lambda w, u: {"user": w.target.pk}, SHARERS),
    api("share_group", lambda w, u: {"group": "outsiders", "role": "viewer"}, SHARERS),
    api("share_group_revoke", lambda w, u: {"group": w.group.pk}, SHARERS),
    api("share_link", lambda w, u: {"mode": "edit"}, SHARERS),
    api(
        "share_link_regenerate",
        lambda w, u: {"mode": "view", "regenerate": True},
        SHARERS,
        url_name="share_link",
    ),
    api("share_transfer", lambda w, u: {"identifier": "newcomer"}, {"owner"}),
    # Exports and the history ------------------------------------------------
    Endpoint(
        "export",
        "GET",
        lambda w: reverse("documents:export", args=[w.doc.public_id, "md"]),
        by_access(allowed=VIEWERS, ok=200, visible=200, anonymous="login"),
    ),
    Endpoint(
        "export_markup",
        "GET",
        lambda w: (
            reverse("documents:export", args=[w.doc.public_id, "html"]) + "?suggestions=markup"
        ),
        by_access(allowed=VIEWERS, ok=200, visible=200, anonymous="login"),
    ),
    Endpoint(
        "history",
        "GET",
        doc_url("history"),
        by_access(allowed=VIEWERS, ok=200, visible=200, anonymous=401),
    ),
    # Browsing versions is for editors (and everyone once the owner allows
    # viewers): commenters are viewers here.
    Endpoint(
        "history_version",
        "GET",
        version_url("history_version"),
        by_access(allowed=EDITORS, ok=200, visible=403, anonymous=401),
    ),
    Endpoint(
        "export_version",
        "GET",
        version_url("export_version", "txt"),
        by_access(allowed=EDITORS, ok=200, visible=403, anonymous="login"),
    ),
    api("history_name", lambda w, u: {"name": "Draft"}, EDITORS),
    api("history_settings", lambda w, u: {"visible_to_viewers": True}, {"owner"}),
    Endpoint(
        "history_restore",
        "POST",
        version_url("history_restore"),
        by_access(allowed=EDITORS, ok=200, visible=403, anonymous=401),
        json=True,
        setup=first_version_changed,
        live=True,
    ),
    # Review (the review app's endpoints, owned by it) -----------------------
    review("threads_get", "GET", "threads", VIEWERS),
    review(
        "thread_create",
        "POST",
        "threads",
        COMMENTERS,
        ok=201,
        data=lambda w, u: {"id": "newthread0000001", "quote": "plan", "body": "Why?"},
    ),
    review(
        "thread_reply",
        "POST",
        "threads/{thread}/messages",
        COMMENTERS,
        ok=201,
        data=lambda w, u: {"body": "Agreed"},
    ),
    review(
        "message_edit_own",
        "PATCH",
        "threads/{thread}/messages/{last}",
        COMMENTERS,
        data=lambda w, u: {"body": "Edited"},
    ),
    review(
        "message_edit_others",
        "PATCH",
        "threads/{thread}/messages/{first}",
        {"owner"},
        data=lambda w, u: {"body": "Edited"},
    ),
    review("message_delete_own", "DELETE", "threads/{thread}/messages/{last}", COMMENTERS),
    review("thread_resolve", "POST", "threads/{thread}/resolve", COMMENTERS),
    review("thread_reopen", "POST", "threads/{thread}/reopen", COMMENTERS),
    # The owner started the thread: deleting it is theirs or an editor's.
    review("thread_delete", "DELETE", "threads/{thread}", EDITORS, live=True),
    review("people", "GET", "people?q=e", COMMENTERS),
    review("authors", "GET", "authors?ids=1,2", VIEWERS),
    review(
        "reject_own_suggestion",
        "POST",
        "suggestions/decide",
        COMMENTERS,
        data=lambda w, u: {"accept": False, "ids": [own_mark(u)]},
        live=True,
    ),
    review(
        "accept_all_suggestions",
        "POST",
        "suggestions/decide",
        EDITORS,
        data=lambda w, u: {"accept": True, "all": True},
        live=True,
    ),
    review(
        "reject_others_suggestion",
        "POST",
        "suggestions/decide",
        EDITORS,
        data=lambda w, u: {"accept": False, "ids": [f"{w.owner.pk}:lx3k9a1:ab12"]},
        live=True,
    ),
    # Undoing a decision: only its maker, commenters only their rejections.
    Endpoint(
        "undo_own_rejection",
        "POST",
        review_url("suggestions/undo"),
        by_access(allowed=COMMENTERS, ok=200, visible=403, anonymous=401),
        data=lambda w, u: {"revision": 1},
        json=True,
        setup=decision_by(accept=False),
        live=True,
    ),
    Endpoint(
        "undo_own_acceptance",
        "POST",
        review_url("suggestions/undo"),
        by_access(allowed=EDITORS, ok=200, visible=403, anonymous=401),
        data=lambda w, u: {"revision": 1},
        json=True,
        setup=decision_by(accept=True),
        live=True,
    ),
    Endpoint(
        "undo_others_decision",
        "POST",
        review_url("suggestions/undo"),
        by_access(allowed={"owner"}, ok=200, visible=403, anonymous=401),
        data=lambda w, u: {"revision": 1},
        json=True,
        setup=decision_by(accept=False, owners=True),
        live=True,
    ),
    Endpoint("password_change", "GET", lambda w: reverse("password_change"), page(200)),
    Endpoint("admin_index", "GET", lambda w: reverse("admin:index"), admin_page()),
    Endpoint(
        "admin_documents",
        "GET",
        lambda w: reverse("admin:documents_document_changelist"),
        admin_page(),
    ),
    Endpoint(
        "admin_document",
        "GET",
        lambda w: reverse("admin:documents_document_change", args=[w.doc.pk]),
        admin_page(),
    ),
    Endpoint(
        "admin_document_permissions",
        "GET",
        lambda w: reverse("admin:documents_document_permissions", args=[w.doc.pk]),
        admin_page(),
    ),
    Endpoint(
        "admin_versions",
        "GET",
        lambda w: reverse("admin:documents_documentversion_changelist"),
        admin_page(),
    ),
    Endpoint(
        "admin_operations",
        "GET",
        lambda w: reverse("admin:documents_operation_changelist"),
        admin_page(),
    ),
]

CASES = [(endpoint, persona) for endpoint in ENDPOINTS for persona in PERSONAS]


class RecordingLivePort:
    """A live port that records each change asked of it and changes nothing.

    Deciding and uncommenting answer None ("nothing matched"); restoring
    answers the document's current revision (the version records it).
    """

    def __init__(self, calls: list) -> None:
        self.calls = calls

    def apply_content(self, *, public_id: Any, target: Any, user_id: Any, user_name: str) -> Any:
        self.calls.append(("content", user_id))
        revision = Document.objects.get(public_id=public_id).head_revision
        return AppliedChange(revision=revision, op_id="matrix", delta=[])

    def apply_edit(self, *, public_id: Any, edit: dict, user_id: Any, user_name: str) -> Any:
        self.calls.append((edit["kind"], user_id))
        if edit["kind"] == "content":
            return self.apply_content(
                public_id=public_id, target=edit["target"], user_id=user_id, user_name=user_name
            )
        return None


@pytest.fixture
def live_port() -> Iterator[list]:
    """Install a recording live port for one test; return its calls."""
    calls: list = []
    previous = live._port
    live.install_live(RecordingLivePort(calls))
    yield calls
    live.install_live(previous)


def outcome(response: Any) -> Any:
    """Return the response as the matrix spells outcomes."""
    if response.status_code != 302:
        return response.status_code
    location = response["Location"]
    if location.startswith(reverse("admin:login")):
        return "admin_login"
    if location.startswith(reverse("login")):
        return "login"
    return "redirect"


def test_matrix_covers_every_persona() -> None:
    for endpoint in ENDPOINTS:
        assert set(endpoint.expected) == set(PERSONAS), endpoint.name


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("endpoint", "persona"),
    CASES,
    ids=[f"{endpoint.name}-{persona}" for endpoint, persona in CASES],
)
def test_permission_matrix(endpoint: Endpoint, persona: str, world: World, live_port: list) -> None:
    client = client_as(world, persona)
    user = persona_user(world, persona)
    endpoint.setup(world, user)
    response = endpoint.call(client, world, user)
    expected = endpoint.expected[persona]
    assert outcome(response) == expected, response.content[:300]
    # Refusals are answered before the document is touched: only people
    # allowed through reach the live port.
    allowed = isinstance(expected, int) and expected < 300
    assert bool(live_port) == (endpoint.live and allowed), live_port
    if (
        isinstance(expected, int)
        and 400 <= expected < 500
        and response.get("Content-Type", "").startswith("application/json")
    ):
        # JSON refusals always say why.
        assert response.json()["error"]
