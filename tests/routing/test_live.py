"""The routed live-documents port: an edit goes to the document's owner.

Without processes: the routing state is installed by hand, and the two
ways a change can go (applied here, forwarded to the owner) are replaced
by recorders. Failure modes covered: no worker on the ring refuses the
change with a message for people instead of applying it on a worker that
does not own the document; a malformed edit is refused before it is sent.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from documents.live import AppliedChange, ServerChangeFailed
from routing import live
from routing.ownership import Ownership
from routing.ring import HashRing
from routing.state import RoutingState, install_routing_state

MEMBERS = {"a": "http://127.0.0.1:8001", "b": "http://127.0.0.1:8002"}
TARGET = [{"insert": "restored\n"}]
EDIT = {"kind": "content", "target": TARGET}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Record where changes go instead of applying them."""
    made: list[tuple[str, dict[str, Any]]] = []
    applied = AppliedChange(revision=7, op_id="x:1", delta=[{"insert": "restored"}])

    def here(**kwargs: Any) -> AppliedChange:
        made.append(("here", kwargs))
        return applied

    def on_owner(**kwargs: Any) -> AppliedChange:
        made.append(("forwarded", kwargs))
        return applied

    monkeypatch.setattr(live, "apply_here", here)
    monkeypatch.setattr(live, "apply_on_owner", on_owner)
    return made


def as_worker(self_id: str, members: dict[str, str]) -> None:
    ownership = Ownership(self_id=self_id, self_url=MEMBERS[self_id], cluster=True)
    ownership.set_members(members)
    ownership.set_serving(True)
    install_routing_state(RoutingState(ownership=ownership))


def document_owned_by(owner: str) -> uuid.UUID:
    ring = HashRing(sorted(MEMBERS))
    while True:
        public_id = uuid.uuid4()
        if ring.owner(str(public_id)) == owner:
            return public_id


def apply(public_id: uuid.UUID) -> AppliedChange | None:
    return live.OwnerLiveDocuments(timeout=3).apply_edit(
        public_id=public_id, edit=EDIT, user_id=1, user_name="Ann"
    )


def test_a_single_node_applies_the_change_here(calls, settings) -> None:
    settings.ZOOKEEPER_HOSTS = ""
    public_id = uuid.uuid4()
    assert apply(public_id) is not None
    assert calls == [
        (
            "here",
            {
                "public_id": public_id,
                "edit": EDIT,
                "user_id": 1,
                "user_name": "Ann",
                "timeout": 3,
            },
        ),
    ]


def test_the_owning_worker_applies_it_here_and_another_forwards_it(calls) -> None:
    as_worker("a", MEMBERS)
    mine, theirs = document_owned_by("a"), document_owned_by("b")
    apply(mine)
    apply(theirs)
    assert [(way, kwargs["public_id"]) for way, kwargs in calls] == [
        ("here", mine),
        ("forwarded", theirs),
    ]
    assert calls[1][1]["owner_id"] == "b"


def test_no_worker_on_the_ring_refuses_the_change(calls) -> None:
    as_worker("a", {})
    with pytest.raises(ServerChangeFailed, match="no server is serving documents"):
        apply(uuid.uuid4())
    assert calls == []


def test_a_malformed_edit_is_refused_before_it_goes_anywhere(calls, settings) -> None:
    from documents.live import InvalidEdit

    settings.ZOOKEEPER_HOSTS = ""
    for edit in (
        {"kind": "restore", "target": TARGET},
        {"kind": "decide", "accept": "yes"},
        {"kind": "decide", "accept": True, "ids": ["not a mark"]},
        {"kind": "decide", "accept": True, "author": 0},
        {"kind": "uncomment", "threads": []},
        {"kind": "content"},
    ):
        with pytest.raises(InvalidEdit):
            live.OwnerLiveDocuments(timeout=3).apply_edit(
                public_id=uuid.uuid4(), edit=edit, user_id=1, user_name="Ann"
            )
    assert calls == []
