"""documents.live: the port through which documents changes a live document.

Failure mode covered: a process whose composition root never installed a
port is told so (``ImproperlyConfigured``), not left with an AttributeError.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from documents import live
from documents.live import AppliedChange, install_live, live_documents


class Recorder:
    """A port that records what it is asked and applies nothing."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    def apply_edit(
        self,
        *,
        public_id: uuid.UUID,
        edit: dict[str, Any],
        user_id: int | None,
        user_name: str,
    ) -> AppliedChange | None:
        self.asked.append({"public_id": public_id, "edit": edit, "user_name": user_name})
        return AppliedChange(revision=1, op_id="x:1", delta=[{"insert": "a"}])


@pytest.fixture
def installed() -> Iterator[None]:
    """Put back whatever port the process had (collabdocs installs one)."""
    before = live._port
    yield
    install_live(before)


def test_without_a_port_the_error_names_the_missing_installation(installed: None) -> None:
    install_live(None)
    with pytest.raises(ImproperlyConfigured, match="install_live"):
        live_documents()


def test_the_installed_port_is_the_one_asked(installed: None) -> None:
    port = Recorder()
    install_live(port)
    doc = uuid.uuid4()
    edit = live.content_edit([{"insert": "a\n"}])
    applied = live_documents().apply_edit(public_id=doc, edit=edit, user_id=None, user_name="Ada")
    assert applied == AppliedChange(revision=1, op_id="x:1", delta=[{"insert": "a"}])
    assert port.asked == [
        {
            "public_id": doc,
            "edit": {"kind": "content", "target": [{"insert": "a\n"}]},
            "user_name": "Ada",
        }
    ]


def test_edit_builders_make_checked_edits() -> None:
    assert live.decide_edit(accept=True) == {
        "kind": "decide",
        "accept": True,
        "ids": None,
        "author": None,
    }
    assert live.decide_edit(accept=False, ids=["7:lx3k9a1:ab12"], author=7)["ids"] == [
        "7:lx3k9a1:ab12"
    ]
    assert live.uncomment_edit(["abcdefghij0123"]) == {
        "kind": "uncomment",
        "threads": ["abcdefghij0123"],
    }
    with pytest.raises(live.InvalidEdit, match="not an id"):
        live.decide_edit(accept=True, ids=["7:LX:ab12"])
    with pytest.raises(live.InvalidEdit, match="not an id"):
        live.uncomment_edit(["short"])
    with pytest.raises(live.InvalidEdit, match="unknown edit kind"):
        live.check_edit({"kind": "rewrite"})
