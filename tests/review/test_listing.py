"""Listing a document's threads stays cheap however many there are.

Failure mode: one query per thread or per message (N+1), which would make
a document with 500 threads slow to open.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client

from review.models import Message, Thread
from tests.review.conftest import ReviewWorld, send

pytestmark = pytest.mark.django_db

THREADS = 500


def _many_threads(world: ReviewWorld) -> None:
    people = [world.owner, world.editor, world.commenter]
    threads = Thread.objects.bulk_create(
        Thread(document=world.doc, public_id=f"t{i:015d}", quote=f"q{i}", created_by=people[i % 3])
        for i in range(THREADS)
    )
    Message.objects.bulk_create(
        Message(thread=thread, author=people[(i + j) % 3], body=f"message {j} of {i}")
        for i, thread in enumerate(threads)
        for j in range(3)
    )


def test_500_threads_list_in_a_bounded_number_of_queries_well_under_a_second(
    review_world: ReviewWorld, django_assert_max_num_queries: Any
) -> None:
    _many_threads(review_world)
    client = Client()
    client.force_login(review_world.viewer)
    send(client, "GET", review_world.url())  # warm up: session, permissions cache
    # Session + user + document + permission checks, then threads and messages.
    with django_assert_max_num_queries(10) as context:
        started = time.perf_counter()
        code, answer = send(client, "GET", review_world.url())
        elapsed = time.perf_counter() - started
    assert code == 200
    review_queries = [q["sql"] for q in context.captured_queries if "review_" in q["sql"]]
    assert len(review_queries) == 2, review_queries
    assert len(answer["threads"]) == THREADS
    assert all(len(thread["messages"]) == 3 for thread in answer["threads"])
    assert answer["threads"][0]["messages"][0]["body"] == "message 0 of 0"
    print(f"GET threads (500 threads, 1500 messages): {elapsed * 1000:.0f} ms")
    assert elapsed < 1.0, f"listing took {elapsed:.2f}s"
