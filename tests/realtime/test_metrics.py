"""Realtime metrics move under a short load (scraped from ``/metrics``).

Failure modes covered: an ops counter, a commit or ack histogram, a
broadcast histogram or a sockets gauge that is never fed, refusals that
are not counted by code, and people counted per socket instead of per
person.
"""

from __future__ import annotations

from typing import Any

from tests.collabdocs.test_metrics import scrape, value

ID = "m" * 20


def op(n: int, rev: int, delta: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "op", "id": f"{ID}:{n}", "rev": rev, "delta": delta}


async def test_metrics_move_under_a_short_load(people: dict[str, Any], ws_connect: Any) -> None:
    _, before = await scrape()
    owner = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    editor = await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"])
    _, open_now = await scrape()
    assert value(open_now, "collabdocs_open_sockets") == 2
    assert value(open_now, "collabdocs_open_documents") == 1
    assert value(open_now, "collabdocs_document_people") == 2
    for n in range(1, 21):
        await owner.send(
            op(n, n - 1, [{"retain": n - 1}, {"insert": "x"}] if n > 1 else [{"insert": "x"}])
        )
        ack = await owner.recv_type("ack")
        assert ack["rev"] == n
    viewer = await ws_connect(people["doc_id"], cookie=people["cookies"]["viewer"])
    await viewer.send(op(99, 20, [{"insert": "no"}]))
    assert (await viewer.recv_type("error"))["code"] == "forbidden"
    await editor.recv_flat(20)  # the broadcast reached the other socket
    _, after = await scrape()

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("collabdocs_ops_accepted_total") == 20
    commits = moved("collabdocs_commit_seconds_count")
    assert 1 <= commits <= 20
    assert moved("collabdocs_commit_batch_ops_sum") == 20
    assert moved("collabdocs_commit_seconds_sum") > 0
    assert moved("collabdocs_ack_seconds_count") == commits
    assert moved("collabdocs_broadcast_seconds_count") >= 1
    assert moved("collabdocs_ops_refused_total", code="forbidden") == 1
    assert value(after, "collabdocs_open_sockets") == 3
    assert value(after, "collabdocs_document_people") == 3
