"""Content search on PostgreSQL: ranking, snippets, access, freshness, the fallback.

Failure modes covered: a body hit outranking a title hit, a document with
fewer hits outranking one with more, markup in a document's text reaching
the page as markup (only ``<mark>`` may), a stranger's or a trashed document
matching, a link document listed before it was opened or after the link
changed, a rename or a new document missing from results until a reindex,
an older indexer overwriting a newer text, and the SQLite fallback path
(forced here on the same ORM) ordering or escaping differently.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from documents import search, services, views
from documents.lists import document_list_owned, document_list_shared_with, document_list_trashed
from documents.models import Document, DocumentSearch, LinkMode
from tests.documents.conftest import World, open_link

pytestmark = pytest.mark.django_db


def make_doc(owner: Any, title: str, text: str) -> Document:
    """Create a document holding ``text`` (its search row is made by the first search)."""
    return services.document_create(owner=owner, title=title, content=[{"insert": text + "\n"}])


def titles(queryset: Any) -> list[str]:
    return [document.title for document in queryset]


def test_the_database_is_postgresql() -> None:
    """These tests are about full-text search: they must not pass on the fallback."""
    assert connection.vendor == "postgresql"
    assert search.uses_full_text()


def test_a_title_hit_ranks_above_a_body_hit_and_more_hits_rank_higher(world: World) -> None:
    owner = world.owner
    make_doc(owner, "Notes", "the walrus is mentioned once here among other words")
    make_doc(owner, "Walrus facts", "nothing about it in the text")
    make_doc(owner, "Diary", "walrus walrus walrus: a walrus day, walrus everywhere")
    make_doc(owner, "Unrelated", "penguins only")
    found = titles(document_list_owned(user=owner, search="walrus"))
    assert found == ["Walrus facts", "Diary", "Notes"]
    # An explicit sort wins over relevance, with the same matches.
    by_title = titles(document_list_owned(user=owner, search="walrus", sort="title"))
    assert by_title == ["Diary", "Notes", "Walrus facts"]


def test_a_title_is_found_by_what_was_typed_even_where_the_parser_drops_it(world: World) -> None:
    """PostgreSQL's parser drops tag-shaped words ("<b>"): titles still match as typed."""
    owner = world.owner
    make_doc(owner, "Using <b> tags", "nothing here")
    make_doc(owner, "C++ notes", "templates")
    make_doc(owner, "Other", "the b tags are described in Using <b> tags")
    # The title hit first; the body that mentions "<b>" after it.
    assert titles(document_list_owned(user=owner, search="<b>")) == ["Using <b> tags", "Other"]
    assert titles(document_list_owned(user=owner, search="C++")) == ["C++ notes"]


def test_websearch_syntax_phrases_or_minus_and_a_prefix_while_typing(world: World) -> None:
    owner = world.owner
    make_doc(owner, "A", "the quick brown fox")
    make_doc(owner, "B", "brown quick dogs")
    make_doc(owner, "C", "collaborative editing")
    assert titles(document_list_owned(user=owner, search='"quick brown"')) == ["A"]
    assert set(titles(document_list_owned(user=owner, search="quick -fox"))) == {"B"}
    assert set(titles(document_list_owned(user=owner, search="fox or collaborative"))) == {
        "A",
        "C",
    }
    # The last word typed halfway matches as a prefix; stemming finds forms.
    assert titles(document_list_owned(user=owner, search="collab")) == ["C"]
    assert titles(document_list_owned(user=owner, search="edits")) == ["C"]
    # Punctuation-only or stop-word searches match nothing rather than fail.
    assert titles(document_list_owned(user=owner, search="!!! (")) == []
    assert titles(document_list_owned(user=owner, search="the")) == []


def test_snippets_mark_the_matches_and_show_markup_in_the_text_as_text(world: World) -> None:
    doc = make_doc(
        world.owner,
        "Page",
        "Before <script>alert('x')</script> the pineapple & <b>bold</b> words after",
    )
    found = list(document_list_owned(user=world.owner, search="pineapple"))
    assert [d.pk for d in found] == [doc.pk]
    snippet = search.snippets(document_pks=[doc.pk], search="pineapple")[doc.pk]
    assert "<mark>pineapple</mark>" in snippet
    assert "&lt;script&gt;" in snippet and "<script>" not in snippet
    assert "&lt;b&gt;bold&lt;/b&gt;" in snippet and "&amp;" in snippet
    # Only the marks are markup.
    assert snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    # A document cannot forge a mark with the private characters.
    forged = make_doc(world.owner, "Forged", "pineapple \ue000<img src=x>\ue001")
    list(document_list_owned(user=world.owner, search="pineapple"))
    html = search.snippets(document_pks=[forged.pk], search="pineapple")[forged.pk]
    assert "<img" not in html and html.count("<mark>") == 1
    # A title-only match has no snippet.
    assert search.snippets(document_pks=[doc.pk], search="page") == {}


def test_only_documents_the_person_can_see_match(world: World, make_user: Any) -> None:
    """A stranger's document never matches; a trashed one only in the owner's trash."""
    stranger = world.stranger
    make_doc(stranger, "Theirs", "secret zeppelin plans")
    mine = make_doc(world.owner, "Mine", "my zeppelin")
    shared = make_doc(stranger, "Shared zeppelin", "text")
    services.share_grant(document=shared, actor=stranger, identifier="owner", role="viewer")
    assert titles(document_list_owned(user=world.owner, search="zeppelin")) == ["Mine"]
    assert titles(document_list_shared_with(user=world.owner, search="zeppelin")) == [
        "Shared zeppelin"
    ]
    services.document_trash(document=mine, actor=world.owner)
    assert titles(document_list_owned(user=world.owner, search="zeppelin")) == []
    assert titles(document_list_trashed(user=world.owner, search="zeppelin")) == ["Mine"]
    services.document_trash(document=shared, actor=stranger)
    assert titles(document_list_shared_with(user=world.owner, search="zeppelin")) == []


def test_a_link_document_is_listed_after_opening_until_the_link_changes(
    world: World, make_user: Any
) -> None:
    linker = world.linker
    doc = make_doc(world.owner, "Linked", "quokka census")
    services.link_set_mode(document=doc, actor=world.owner, mode=LinkMode.VIEW)
    doc.refresh_from_db()
    client = Client()
    client.force_login(linker)
    shared = reverse("documents:shared")
    assert "Linked" not in client.get(shared, {"q": "quokka"}).content.decode()
    open_link(client, doc)
    page = client.get(shared, {"q": "quokka"}).content.decode()
    assert "Linked" in page and "Viewer (via link)" in page
    assert "<mark>quokka</mark>" in page
    # A new link (the old token stops working) takes it off the list.
    services.link_set_mode(document=doc, actor=world.owner, mode=LinkMode.VIEW, regenerate=True)
    assert "Linked" not in client.get(shared).content.decode()
    # Opening the new link lists it again; turning the link off removes it.
    doc.refresh_from_db()
    open_link(client, doc)
    assert "Linked" in client.get(shared).content.decode()
    services.link_set_mode(document=doc, actor=world.owner, mode=LinkMode.OFF)
    assert "Linked" not in client.get(shared).content.decode()
    assert titles(document_list_shared_with(user=linker)) == []


def test_renames_and_new_documents_are_found_without_a_reindex(world: World) -> None:
    doc = make_doc(world.owner, "Draft", "body words")
    assert titles(document_list_owned(user=world.owner, search="draft")) == ["Draft"]
    services.document_rename(document=doc, actor=world.owner, title="Aardvark handbook")
    assert titles(document_list_owned(user=world.owner, search="aardvark")) == ["Aardvark handbook"]
    assert titles(document_list_owned(user=world.owner, search="draft")) == []
    row = DocumentSearch.objects.get(document=doc)
    assert row.title == "Aardvark handbook" and row.text == "body words\n"


def test_the_later_revision_wins_when_indexers_race(world: World) -> None:
    doc = make_doc(world.owner, "Race", "first")
    search._store(doc.pk, 5, "Race", "newer text")
    search._store(doc.pk, 3, "Race", "older text")  # a slower indexer, read earlier
    assert DocumentSearch.objects.get(document=doc).text == "newer text"
    search._store(doc.pk, 5, "Race", "same revision, read again")
    assert DocumentSearch.objects.get(document=doc).text == "same revision, read again"
    assert search.index_document(doc.pk + 10_000) is False  # gone: nothing written


def test_search_text_leaves_out_pending_suggestions_and_comment_anchors(world: World) -> None:
    mark = f"{world.editor.pk}:lq1abc:k3x9"
    content = [
        {"insert": "kept "},
        {"insert": "proposed ", "attributes": {"suggest-insert": mark}},
        {"insert": "anchored", "attributes": {"comment": "t1"}},
        {"insert": "\n"},
    ]
    assert search.plain_text(content) == "kept anchored\n"


def test_reindex_search_rebuilds_every_row(world: World) -> None:
    doc = make_doc(world.owner, "Cmd", "gnu")
    DocumentSearch.objects.all().delete()
    call_command("reindex_search", stdout=(out := _Out()))
    assert "Indexed" in out.text
    assert DocumentSearch.objects.filter(document=doc, text="gnu\n").exists()
    call_command("reindex_search", "--stale", stdout=(again := _Out()))
    assert "Indexed 0 documents" in again.text


class _Out:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        return None


def test_the_fallback_matches_every_word_title_first_with_an_escaped_snippet(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SQLite branch (icontains), forced on this database's ORM."""
    monkeypatch.setattr(search, "uses_full_text", lambda: False)
    owner = world.owner
    body = make_doc(owner, "Notes", "a <i>kiwi</i> and a mango in the text")
    title = make_doc(owner, "Kiwi mango", "nothing")
    make_doc(owner, "Only kiwi", "no second fruit")
    found = list(document_list_owned(user=owner, search="kiwi MANGO"))
    assert [d.pk for d in found] == [title.pk, body.pk]
    snippet = search.snippets(document_pks=[body.pk], search="kiwi MANGO")[body.pk]
    assert snippet == "a &lt;i&gt;<mark>kiwi</mark>&lt;/i&gt; and a <mark>mango</mark> in the text"
    assert DocumentSearch.objects.get(document=body).vector is None
    assert list(document_list_owned(user=owner, search="!!!")) == []


def test_the_list_page_searches_content_and_keeps_sort_and_search_in_links(
    world: World, login: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 5)
    for index in range(7):
        make_doc(world.owner, f"Doc {index:02d}", "ocelot")
    client = login("owner")
    page = client.get(reverse("documents:list"), {"q": "ocelot", "sort": "title"})
    html = page.content.decode()
    assert "Doc 04" in html and "Doc 05" not in html
    assert 'href="?q=ocelot&amp;sort=title&amp;page=2"' in html
    assert 'aria-sort="ascending"' in html
    second = client.get(reverse("documents:list"), {"q": "ocelot", "sort": "title", "page": 2})
    assert "Doc 06" in second.content.decode()
    assert 'href="?q=ocelot&amp;sort=title"' in second.content.decode()  # back to page 1


def test_the_indexer_reads_a_busy_document_at_most_once_per_interval_scaled_by_its_cost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Marks on every commit; reads spaced by max(FLUSH_SECONDS, COST_FACTOR x read time).

    Then the thread ends once nothing is marked. (Reading is replaced by a
    recorder here: this is the scheduling, not the database.)
    """
    reads: list[float] = []

    def read(pk: int) -> bool:
        reads.append(time.monotonic())
        time.sleep(0.02)  # a read of 20 ms: the next one 0.4 s later at the soonest
        return True

    monkeypatch.setattr(search, "FLUSH_SECONDS", 0.05)
    monkeypatch.setattr(search, "COST_FACTOR", 20)
    monkeypatch.setattr(search, "index_document", read)
    marks = search._Marks()
    until = time.monotonic() + 1.2
    while time.monotonic() < until:
        marks.mark(7)  # a commit every 5 ms
        time.sleep(0.005)
    deadline = time.monotonic() + 5
    while marks._thread is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marks._thread is None  # idle: no thread left behind
    gaps = [b - a for a, b in zip(reads, reads[1:], strict=False)]
    assert 2 <= len(reads) <= 4, reads
    assert all(gap >= 0.4 for gap in gaps), gaps
