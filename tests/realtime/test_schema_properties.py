"""Property tests: whatever the schema accepts, the server can store and send.

Seeded (the seed is printed; ``SEED`` replays one). Random changes over
every format name and edge values (counts near 2^53, 2,000-character links,
500-character alts, astral text, data: images) must:

* pass ``parse_change`` unchanged (the generator's claim, checked);
* serialise with ``realtime.protocol.dumps`` (the server's one encoder)
  and decode to the same value, types included (``true`` stays ``true``,
  ``1`` stays ``1``);
* round-trip through PostgreSQL ``jsonb`` unchanged, both the way the
  authority stores ops (JSON text cast to jsonb) and the ORM's way.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

import pytest

from documents.models import Operation
from realtime import protocol
from realtime.ot import parse_change
from tests.realtime.conftest import create_document, create_user

from . import ot_gen

COUNT = 3000


def seed_for(name: str) -> int:
    """Return the seed of this run (``SEED`` replays one) and print it."""
    seed = int(os.environ.get("SEED") or random.SystemRandom().randrange(2**32))
    print(f"{name}: seed={seed}")
    return seed


def exact(value: Any) -> str:
    """Return JSON text that tells every JSON type apart (True from 1, 1 from 1.0)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=True)


def changes(seed: int, count: int) -> list[list[dict[str, Any]]]:
    """Return ``count`` accepted changes' ops for ``seed``."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        change = ot_gen.schema_change(rng)
        assert parse_change(change.ops) == change, f"seed={seed}: generator made {change.ops}"
        out.append(change.ops)
    return out


def test_accepted_changes_serialise_and_decode_to_themselves() -> None:
    seed = seed_for("serialise")
    for ops in changes(seed, COUNT):
        text = protocol.dumps(ops)
        assert exact(json.loads(text)) == exact(ops), f"seed={seed}"
        frame = protocol.op_frame(
            rev=1, op_id="a" * 16 + ":1", session="s", user_id=None, delta_json=text
        )
        assert exact(json.loads(frame)["delta"]) == exact(ops), f"seed={seed}"


@pytest.mark.django_db
def test_accepted_changes_round_trip_through_postgresql_jsonb() -> None:
    from django.db import connection

    seed = seed_for("jsonb")
    document = create_document(create_user("writer"))
    batch = changes(seed, COUNT)
    table = connection.ops.quote_name(Operation._meta.db_table)
    with connection.cursor() as cursor:
        # As the authority stores ops: protocol.dumps text, cast to jsonb.
        cursor.execute(
            f"INSERT INTO {table} (document_id, revision, op_id, delta, author_id, created_at) "
            "SELECT %s, r.revision, r.op_id, r.delta::jsonb, NULL, now() "
            "FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS r(revision, op_id, delta)",
            [
                document.pk,
                list(range(1, len(batch) + 1)),
                [f"{'p' * 16}:{i}" for i in range(1, len(batch) + 1)],
                [protocol.dumps(ops) for ops in batch],
            ],
        )
    stored = list(
        Operation.objects.filter(document=document)
        .order_by("revision")
        .values_list("delta", flat=True)
    )
    assert len(stored) == len(batch)
    for ops, back in zip(batch, stored, strict=True):
        assert exact(back) == exact(ops), f"seed={seed}"
        # And the read value is itself accepted, unchanged.
        assert parse_change(back).ops == ops, f"seed={seed}"
    # The ORM's own way in (JSONField's encoder) comes back the same.
    Operation.objects.filter(document=document).delete()
    Operation.objects.bulk_create(
        Operation(document=document, revision=i, op_id=f"{'q' * 16}:{i}", delta=ops)
        for i, ops in enumerate(batch, start=1)
    )
    stored = list(
        Operation.objects.filter(document=document)
        .order_by("revision")
        .values_list("delta", flat=True)
    )
    assert [exact(v) for v in stored] == [exact(v) for v in batch], f"seed={seed}"
