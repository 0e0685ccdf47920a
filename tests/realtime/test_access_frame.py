"""The ``access`` frame carries the page's labels and follows every change.

docs/protocol.md "Access": on a re-check the socket sends ``access`` when
its rights *or their labels* changed (role, role label, owner), so that the
role pill, the owner's name and the owner-only actions of an open page stay
true. Failure modes covered: an ownership transfer (same rights for the
previous owner, who is no longer the owner: a frame for both people), a
link share replaced by a direct one (same rights, another label), and a
re-check that finds nothing new (no frame at all).
"""

from __future__ import annotations

from typing import Any

from guardian.shortcuts import assign_perm

from documents import events, services
from documents.links import SESSION_KEY as LINKS_KEY
from documents.models import LinkMode
from realtime import protocol
from tests.realtime.conftest import db


def _labels(frame: dict[str, Any]) -> tuple[Any, ...]:
    return (
        frame["type"],
        frame["can_edit"],
        frame["can_comment"],
        frame["role"],
        frame["role_label"],
        frame["is_owner"],
        frame["owner"],
    )


def _link_cookie(user: Any, document: Any) -> str:
    """Return a session cookie for ``user`` that remembers the document's link."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[LINKS_KEY] = {str(document.public_id): document.link_token}
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def test_the_frame_keeps_old_clients_working_and_owner_needs_both_parts() -> None:
    """Without labels the frame is the old one; ``owner`` needs its id and name."""
    assert protocol.access_frame(can_edit=True, can_comment=True) == (
        '{"type":"access","can_edit":true,"can_comment":true}'
    )
    assert "owner" not in protocol.access_frame(can_edit=False, can_comment=False, owner_id=3)


async def test_a_transfer_tells_both_people_who_owns_the_document(people, ws_connect) -> None:
    """The previous owner keeps editing but loses "Owner"; the new one gains it."""
    owner, editor = people["users"]["owner"], people["users"]["editor"]
    old = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    new = await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"])
    await db(services.ownership_transfer, document=people["doc"], actor=owner, identifier="editor")
    became = {"id": editor.pk, "name": "editor"}
    assert _labels(await old.recv_type("access")) == (
        "access",
        True,
        True,
        "editor",
        "Editor",
        False,
        became,
    )
    assert _labels(await new.recv_type("access")) == (
        "access",
        True,
        True,
        "owner",
        "Owner",
        True,
        became,
    )


async def test_a_direct_share_replaces_the_via_link_label(people, ws_connect) -> None:
    """Same rights through a share instead of the link: the label changes alone."""
    stranger, document = people["users"]["stranger"], people["doc"]
    document.link_mode = LinkMode.EDIT
    await db(document.save, update_fields=["link_mode"])
    sock = await ws_connect(people["doc_id"], cookie=await db(_link_cookie, stranger, document))
    assert sock.hello["can_edit"] is True
    for perm in ("view_document", "comment_document", "change_document"):
        await db(assign_perm, f"documents.{perm}", stranger, document)
    await db(events.access_changed, public_id=people["doc_id"])
    frame = await sock.recv_type("access")
    assert (frame["can_edit"], frame["role"], frame["role_label"]) == (True, "editor", "Editor")


async def test_a_recheck_that_finds_nothing_new_sends_nothing(people, ws_connect) -> None:
    """An access event that changes nothing for this socket is not echoed."""
    sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["viewer"])
    await db(events.access_changed, public_id=people["doc_id"])
    assert await sock.nothing(timeout=0.5)
