"""The restore change: a valid change from any document to any other.

quill-delta's ``diff`` takes the longest common prefix first, so from
``"\\nok\\n"`` to ``"\\n"`` it keeps the first newline and deletes the final
one: a change the protocol refuses. Restores must never produce that.
"""

from __future__ import annotations

import random

import pytest

from collabdocs.devclient import random_change
from realtime.ot import Delta, DocumentText
from realtime.restore import restore_change


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ([{"insert": "\nok\nxyz\n"}], [{"insert": "\n"}]),
        ([{"insert": "\na\n"}], [{"insert": "\n"}]),
        (
            [
                {"insert": "l", "attributes": {"header": 1}},
                {"insert": "\n", "attributes": {"italic": True}},
                {"insert": "\n"},
            ],
            [{"insert": "\n"}],
        ),
        ([{"insert": "a\n"}], [{"insert": "b\n", "attributes": {"bold": True}}]),
        (
            [{"insert": "title"}, {"insert": "\n", "attributes": {"header": 1}}],
            [{"insert": "title\n"}],
        ),
        ([{"insert": "same\n"}], [{"insert": "same\n"}]),
    ],
)
def test_restore_change_keeps_the_final_newline(current: list[dict], target: list[dict]) -> None:
    doc = DocumentText.from_ops(current)
    doc.apply(restore_change(current, target))  # raises if the change is invalid
    assert doc.to_ops() == Delta(target).ops


def test_restore_change_between_random_documents() -> None:
    seed = random.randrange(1 << 30)
    print(f"seed={seed}")
    rng = random.Random(seed)
    for _ in range(400):
        docs = []
        for _ in range(2):
            doc = DocumentText.from_ops([{"insert": "\n"}])
            for _ in range(rng.randint(0, 40)):
                doc.apply(random_change(doc, rng))
            docs.append(doc)
        current, target = docs[0].to_ops(), docs[1].to_ops()
        docs[0].apply(restore_change(current, target))
        assert docs[0].to_ops() == target, (seed, current, target)
