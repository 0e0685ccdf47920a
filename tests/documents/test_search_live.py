"""Search text follows live edits, against a real daphne and a real socket.

A word typed over the socket reaches the document's search row within the
indexer's interval, without any search asking for it (a search would
catch the row up itself: this test reads the row, not the list). Failure
mode: edits only searchable after a reindex, or the row falling behind
for good while the document stays open.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from collabdocs.devclient import WSClient
from documents import search
from documents.lists import document_list_owned
from documents.models import Document, DocumentSearch
from realtime.ot import Delta
from tests.realtime.conftest import create_document, create_user, db, session_cookie

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def row_of(document_pk: int) -> tuple[int, str] | None:
    row = DocumentSearch.objects.filter(document_id=document_pk).first()
    return None if row is None else (row.revision, row.text)


def head_of(document_pk: int) -> int:
    return int(Document.objects.values_list("head_revision", flat=True).get(pk=document_pk))


async def test_a_typed_word_is_searchable_within_the_flush_interval(live_daphne: Any) -> None:
    owner = await db(create_user, "owner")
    document = await db(create_document, owner, title="Live notes")
    cookie = await db(session_cookie, owner)
    client = WSClient(live_daphne.ws_url, str(document.public_id), cookie=cookie)
    await client.connect()
    try:
        for char in "capybara":
            end = client.ot.doc.length - 1
            await client.edit(Delta().retain(end).insert(char) if end else Delta().insert(char))
        await client.wait_synchronized()
        typed_at = time.monotonic()
        head = await db(head_of, document.pk)
        assert head >= 1  # the client may send several keystrokes as one op
        # The indexer runs FLUSH_SECONDS after the first mark; allow two rounds.
        deadline = typed_at + 3 * search.FLUSH_SECONDS + 2
        row = await db(row_of, document.pk)
        while (row is None or row[0] < head) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            row = await db(row_of, document.pk)
        assert row is not None and row[0] == head, row
        assert "capybara" in row[1]
        found = await db(lambda: [d.pk for d in document_list_owned(user=owner, search="capyb")])
        assert found == [document.pk]
    finally:
        await client.close()
