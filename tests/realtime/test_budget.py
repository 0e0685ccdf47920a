"""The cost budget: ops per change, runs touched, CPU per socket and per user.

Units of :mod:`realtime.budget` on a fake clock, the bounded work of
:meth:`DocumentText.apply` (equal to composing, whatever the path taken),
and the refusals a client sees over the real ASGI application.
"""

from __future__ import annotations

import asyncio
import json
import os
import random

import pytest

from realtime import sequencer
from realtime.budget import CpuBudget, UserBudgets, sniff_op_id
from realtime.ot import Delta, DocumentText, DocumentTooLarge, InvalidDelta
from tests.realtime.conftest import create_user, db, session_cookie, share, stored_content
from tests.realtime.test_authority import (
    FakeSocket,
    attach,
    env_fixture,  # noqa: F401 - registers the fixture "env"
    op,
    settle,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# -- CpuBudget / UserBudgets ----------------------------------------------------


def test_a_budget_allows_until_in_debt_then_says_how_long_to_wait() -> None:
    clock = Clock()
    budget = CpuBudget(0.1, 0.05, clock=clock)
    assert budget.wait() == 0.0
    budget.charge(0.03)
    assert budget.wait() == 0.0  # 0.02 s left
    budget.charge(0.07)  # one frame may overdraw: -0.05 s
    assert budget.wait() == pytest.approx(0.5)  # 0.05 s of debt at 0.1 s/s
    clock.now += 0.25
    assert budget.wait() == pytest.approx(0.25)
    clock.now += 0.25
    assert budget.wait() == 0.0
    clock.now += 100
    assert budget.balance == pytest.approx(0.05)  # refills up to the burst only


def test_a_budget_refuses_nonsense_settings() -> None:
    with pytest.raises(ValueError):
        CpuBudget(0, 1)
    with pytest.raises(ValueError):
        CpuBudget(1, 0)


def test_a_users_sockets_share_one_budget_until_the_last_closes() -> None:
    book = UserBudgets()
    first = book.acquire(7, rate=0.2, burst=0.1)
    second = book.acquire(7, rate=0.2, burst=0.1)
    other = book.acquire(8, rate=0.2, burst=0.1)
    assert first is second and first is not other
    first.charge(1.0)
    assert second.wait() > 0 and other.wait() == 0
    book.release(7)
    assert book.acquire(7, rate=0.2, burst=0.1) is first  # still one socket open
    book.release(7)
    book.release(7)
    assert book.users() == 1  # user 8 only


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ('{"type":"op","id":"abcdefghijklmnop:12","rev":3,"delta":[]}', "abcdefghijklmnop:12"),
        ('{"type": "op", "id": "abcdefghijklmnop:1", "delta": []}', "abcdefghijklmnop:1"),
        ('{"type":"op","rev":1,"delta":[{"insert":"\\"id\\":\\"abcdefghijklmnop:9\\""}]}', None),
        ('{"type":"op","id":"short:1"}', None),
        ('{"type":"presence","rev":1,"range":null}', None),
        (" " * 300 + '{"type":"op","id":"abcdefghijklmnop:1"}', None),  # not near the start
    ],
)
def test_the_op_id_is_found_without_decoding(frame: str, expected: str | None) -> None:
    assert sniff_op_id(frame) == expected


# -- bounded work in DocumentText -------------------------------------------------


def _random_document(rng: random.Random, runs: int) -> list[dict]:
    ops: list[dict] = []
    for _ in range(runs):
        kind = rng.random()
        if kind < 0.05:
            ops.append({"insert": {"image": "/media/x.png"}})
            continue
        text = rng.choice(["ab", "x", "😀", "long text " * rng.randint(1, 200), "\n"])
        attributes = rng.choice(
            [None, {"bold": True}, {"italic": True}, {"bold": True, "color": "#ff0000"}]
        )
        ops.append({"insert": text, **({"attributes": attributes} if attributes else {})})
    ops.append({"insert": "\n"})
    return ops


def _random_change(rng: random.Random, doc: DocumentText, ops: int) -> Delta:
    """Many small formats (and some inserts/deletes) moving forward."""
    change = Delta()
    pos = 0
    if rng.random() < 0.5:  # start anywhere: blocks are entered in their second half too
        pos = rng.randrange(doc.length - 1)
        if pos:
            change.retain(pos)
    for _ in range(ops):
        if pos >= doc.length - 2:
            break
        step = rng.randint(1, 3)
        if pos + step >= doc.length:
            break
        kind = rng.random()
        if kind < 0.6:
            change.retain(
                step,
                rng.choice(
                    [
                        {"bold": True},
                        {"bold": None},
                        {"italic": True},
                        {"color": "#00ff00", "bold": None},
                    ]
                ),
            )
        elif kind < 0.75:
            change.retain(step)
        elif kind < 0.9:
            change.insert(rng.choice(["q", "zz"]), rng.choice([None, {"bold": True}]))
            step = 0
        else:
            change.delete(step)
        pos += step
    return change


def test_apply_of_many_small_formats_equals_compose() -> None:
    """Every path of apply (hints, backward walks, block splits) composes exactly."""
    seed = int(os.environ.get("SEED", random.randrange(1 << 30)))
    print(f"seed={seed}")
    rng = random.Random(seed)
    for _ in range(40):
        content = _random_document(rng, rng.randint(1, 400))
        doc = DocumentText.from_ops(content)
        expected = Delta(content)
        for _ in range(3):
            change = _random_change(rng, doc, rng.randint(1, 600))
            try:
                doc.check(change)
            except InvalidDelta:  # a boundary inside a pair: not this test's subject
                continue
            doc.apply(change)
            expected = expected.compose(change)
            assert doc.to_ops() == expected.ops, f"seed={seed}"


def test_a_change_touching_too_many_runs_is_refused_and_changes_nothing() -> None:
    doc = DocumentText.from_ops(
        [
            {"insert": "ab", "attributes": {"bold": True}} if i % 2 else {"insert": "ab"}
            for i in range(600)
        ]
        + [{"insert": "\n"}]
    )
    before = doc.to_ops()
    wide = Delta().retain(1200, {"italic": True})
    # An upper bound: the 600 runs, plus at most the rest of the last block.
    assert 600 <= doc.runs_touched(wide) <= 601
    with pytest.raises(DocumentTooLarge, match="about 60[01] formatting runs.*limit of 500"):
        doc.check(wide, max_runs=500)
    assert doc.to_ops() == before
    doc.check(wide, max_runs=601)  # at the bound: allowed
    # Deletes count too; plain retains and inserts do not.
    assert doc.runs_touched(Delta().retain(2).delete(10)) == 10  # bound: a run per unit
    assert doc.runs_touched(Delta().retain(1100).insert("x")) == 0
    # A one-unit format inside a block counts one run, not the block.
    assert doc.runs_touched(Delta().retain(5).retain(1, {"bold": True})) == 1


# -- refusals over the ASGI application -------------------------------------------

needs_db = pytest.mark.django_db(transaction=True)


def _limits(settings, **values) -> None:
    settings.COLLABDOCS = {**settings.COLLABDOCS, **values}


async def _answer(sock, message: dict) -> dict:
    await sock.send(message)
    while True:
        frame = await sock.recv()
        for msg in frame["messages"] if frame["type"] == "batch" else [frame]:
            if msg["type"] in ("ack", "error") and msg.get("id") == message["id"]:
                return msg


OP = "budgetclient0000"


@needs_db
async def test_a_change_with_too_many_ops_is_too_large(ws_connect, people, settings):
    _limits(settings, MAX_CHANGE_OPS=10)
    sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    await _answer(sock, {"type": "op", "id": f"{OP}:1", "rev": 0, "delta": [{"insert": "x" * 30}]})
    many = [{"retain": 1, "attributes": {"bold": True}}, {"retain": 1}] * 6
    refused = await _answer(sock, {"type": "op", "id": f"{OP}:2", "rev": 1, "delta": many})
    assert refused["code"] == "too_large" and "at most 10 ops" in refused["message"], refused
    ack = await _answer(sock, {"type": "op", "id": f"{OP}:3", "rev": 1, "delta": many[:10]})
    assert (ack["type"], ack["rev"]) == ("ack", 2)


@needs_db
async def test_a_change_reformatting_too_many_runs_is_too_large(ws_connect, people, settings):
    _limits(settings, MAX_CHANGE_RUNS=50)
    sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    runs = [
        {"insert": "ab", "attributes": {"bold": True}} if i % 2 else {"insert": "ab"}
        for i in range(100)
    ]
    assert (await _answer(sock, {"type": "op", "id": f"{OP}:1", "rev": 0, "delta": runs}))[
        "rev"
    ] == 1
    wide = [{"retain": 200, "attributes": {"italic": True}}]
    refused = await _answer(sock, {"type": "op", "id": f"{OP}:2", "rev": 1, "delta": wide})
    assert refused["code"] == "too_large" and "formatting runs" in refused["message"], refused
    # The count is a bound (at most one run per unit): 40 units pass.
    narrow = [{"retain": 40, "attributes": {"italic": True}}]
    ack = await _answer(sock, {"type": "op", "id": f"{OP}:3", "rev": 1, "delta": narrow})
    assert (ack["type"], ack["rev"]) == ("ack", 2), ack
    head, _ = await db(stored_content, people["doc_id"])
    assert head == 2


@needs_db
async def test_a_socket_over_its_cpu_budget_is_rate_limited_with_retry_after(
    ws_connect, people, settings
):
    # Bursts of 1 ms: one heavy frame (several ms) puts the socket in debt,
    # refilled slowly enough that the next frame still finds it there.
    _limits(settings, SOCKET_CPU_MS_PER_SECOND=20, USER_CPU_MS_PER_SECOND=1000, CPU_BURST_MS=1)
    sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    heavy = [
        {"insert": "word " * 2000},
        *([{"retain": 3, "attributes": {"bold": True}}, {"retain": 2}] * 450),
    ]
    await _answer(sock, {"type": "op", "id": f"{OP}:1", "rev": 0, "delta": heavy[:1]})
    first = await _answer(sock, {"type": "op", "id": f"{OP}:2", "rev": 1, "delta": heavy[1:]})
    assert first["type"] == "ack", first
    limited = await _answer(
        sock, {"type": "op", "id": f"{OP}:3", "rev": 2, "delta": [{"insert": "y"}]}
    )
    assert limited["code"] == "rate_limited", limited
    assert limited["retry_after"] >= 1 and "server time" in limited["message"]
    print(f"retry_after={limited['retry_after']} ms")
    # Resending after retry_after works (same id, same base).

    await asyncio.sleep(limited["retry_after"] / 1000 + 0.02)
    ack = await _answer(sock, {"type": "op", "id": f"{OP}:3", "rev": 2, "delta": [{"insert": "y"}]})
    assert (ack["type"], ack["rev"]) == ("ack", 3), ack


@needs_db
async def test_a_users_sockets_share_the_user_budget(ws_connect, people, settings):
    _limits(settings, SOCKET_CPU_MS_PER_SECOND=1000, USER_CPU_MS_PER_SECOND=1, CPU_BURST_MS=1)
    other = await db(create_user, "someone")
    await db(share, people["doc"], other, edit=True)
    other_cookie = await db(session_cookie, other)
    a = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    b = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    c = await ws_connect(people["doc_id"], cookie=other_cookie)
    heavy = [{"insert": "word " * 2000}]
    await _answer(a, {"type": "op", "id": f"{OP}:1", "rev": 0, "delta": heavy})
    fmt = [{"retain": 3, "attributes": {"bold": True}}, {"retain": 2}] * 450
    assert (await _answer(a, {"type": "op", "id": f"{OP}:2", "rev": 1, "delta": fmt}))[
        "type"
    ] == "ack"
    limited = await _answer(
        b, {"type": "op", "id": "budgetsocketbbbb:1", "rev": 2, "delta": [{"insert": "b"}]}
    )
    assert limited["code"] == "rate_limited" and limited["retry_after"] >= 1, limited
    # Another person is not affected.
    ack = await _answer(
        c, {"type": "op", "id": "budgetsocketcccc:1", "rev": 2, "delta": [{"insert": "c"}]}
    )
    assert (ack["type"], ack["rev"]) == ("ack", 3), ack


async def test_a_change_too_far_behind_large_changes_is_stale(env, monkeypatch):
    """Transforming over piled-up large changes is bounded (MAX_TRANSFORM_WORK)."""
    monkeypatch.setattr(sequencer, "MAX_TRANSFORM_WORK", 5_000)
    store, make = env
    authority = await make(window=100)
    a = attach(authority, "a")
    await authority.submit(a.sub, op(1, 0, [{"insert": "x" * 400}]))
    await settle(authority)
    fmt = [{"retain": 1, "attributes": {"bold": True}}, {"retain": 1}] * 100
    for n in range(2, 30):
        await authority.submit(a.sub, op(n, n - 1, fmt))
        await settle(authority)
    assert authority.head == 29
    a.take()
    await authority.submit(a.sub, op(30, 1, [{"retain": 1}, {"insert": "late"}]))
    await settle(authority)
    refused = a.take()
    assert [(m["code"], m["id"]) for m in refused] == [("stale", op(30, 1, []).op_id)], refused
    assert "too far behind" in refused[0]["message"]
    assert authority.head == 29
    # Recent enough: transformed and accepted.
    await authority.submit(a.sub, op(31, 25, [{"retain": 1}, {"insert": "late"}]))
    await settle(authority)
    assert [(m["type"], m["rev"]) for m in a.take()] == [("ack", 30)]


async def test_the_window_holds_a_bounded_number_of_ops(env, monkeypatch):
    """Large changes push old ones out of the window (MAX_WINDOW_OPS)."""
    monkeypatch.setattr(sequencer, "MAX_WINDOW_OPS", 1_000)
    monkeypatch.setattr(sequencer, "MIN_WINDOW_ENTRIES", 2)
    store, make = env
    authority = await make(window=100)
    a = attach(authority, "a")
    await authority.submit(a.sub, op(1, 0, [{"insert": "x" * 400}]))
    await settle(authority)
    fmt = [{"retain": 1, "attributes": {"bold": True}}, {"retain": 1}] * 150  # 300 ops
    for n in range(2, 12):
        await authority.submit(a.sub, op(n, n - 1, fmt))
        await settle(authority)
    assert authority.head == 11
    # At most 1,000 ops held: three 300-op changes, plus nothing older.
    assert authority.window_start == 8
    a.take()
    # Revision 7 no longer stored either (else it is rebased from storage).
    store.compact(authority.public_id, revision=11, content=authority.content(), keep_ops=3)
    await authority.submit(a.sub, op(12, 7, [{"insert": "y"}]))
    await settle(authority)
    assert [(m["code"], m["id"]) for m in a.take()] == [("stale", op(12, 7, []).op_id)]
    await authority.submit(a.sub, op(13, 8, [{"insert": "y"}]))
    await settle(authority)
    assert [(m["type"], m["rev"]) for m in a.take()] == [("ack", 12)]
    # Catch-up from a trimmed revision gets the whole content instead.
    late = json.loads(authority.attach(FakeSocket("late").sub, since_rev=5))
    assert "content" in late and "ops" not in late and late["rev"] == 12
    recent = json.loads(authority.attach(FakeSocket("recent").sub, since_rev=9))
    assert [item["rev"] for item in recent["ops"]] == [10, 11, 12]
