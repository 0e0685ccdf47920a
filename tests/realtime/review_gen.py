"""Seeded random documents and changes that carry review marks.

Built on :mod:`tests.realtime.ot_gen`: documents whose runs hold suggestion
marks (``suggest-insert`` / ``-delete`` / ``-format``) of a few authors and
comment anchors, and the changes each kind of participant makes in the
browser (editors typing, commenters suggesting). Everything is
schema-valid (``parse_change`` accepts it).
"""

from __future__ import annotations

import json
import random
from typing import Any

from realtime.ot import Delta

from . import ot_gen

AUTHORS = (7, 42, 1000)
THREADS = ("abcdefghij0123", "zz00zz00zz00zz00", "q1w2e3r4t5y6u7i8", "0000000000")


def mark(rng: random.Random, author: int | None = None) -> str:
    """Return a random suggestion mark by ``author`` (a random one if None)."""
    who = rng.choice(AUTHORS) if author is None else author
    stamp = rng.choice(["lx3k9a1", "m0", "zzzzzzzzzz", "1"])
    tag = "".join(rng.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(6))
    return f"{who}:{stamp}:{tag}"


def format_mark(rng: random.Random, author: int | None = None) -> str:
    """Return a random ``suggest-format`` value."""
    proposals = [
        {"bold": True},
        {"italic": None},
        {"header": 2, "bold": None},
        {"color": "#ff0000"},
        {"link": "https://example.com/x"},
    ]
    body = json.dumps(rng.choice(proposals), separators=(",", ":"))
    return f"{mark(rng, author)}|{body}"


def comment(rng: random.Random) -> str:
    """Return a random ``comment`` value (1-3 distinct thread ids)."""
    return " ".join(rng.sample(THREADS, rng.randint(1, 3)))


def review_attributes(rng: random.Random, marks: list[str]) -> dict[str, Any]:
    """Return 0-3 review attributes, reusing ``marks`` (so runs share ids)."""
    out: dict[str, Any] = {}

    def some_mark() -> str:
        if marks and rng.random() < 0.6:
            return rng.choice(marks)
        made = mark(rng)
        marks.append(made)
        return made

    if rng.random() < 0.35:
        out["suggest-insert"] = some_mark()
    if rng.random() < 0.3:
        out["suggest-delete"] = some_mark()
    if rng.random() < 0.2:
        out["suggest-format"] = f"{some_mark()}|" + rng.choice(
            ['{"bold":true}', '{"header":2,"italic":null}', '{"color":"#00ff00"}']
        )
    if rng.random() < 0.25:
        out["comment"] = comment(rng)
    return out


def document(rng: random.Random, max_ops: int = 8) -> Delta:
    """Return a random document whose runs carry review marks."""
    base = ot_gen.document(rng, max_ops)
    marks: list[str] = []
    ops: list[dict[str, Any]] = []
    for op in base.ops:
        extra = review_attributes(rng, marks)
        attributes = {**(op.get("attributes") or {}), **extra}
        ops.append({"insert": op["insert"], **({"attributes": attributes} if attributes else {})})
    return Delta(ops)
