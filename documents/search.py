"""Content search: the plain text kept per document, and finding in it.

Two halves:

* **Keeping the text.** :func:`index_document` reads a document's current
  content (snapshot + later ops, :mod:`documents.content`), turns it into
  plain text as accepted so far (comment anchors and pending suggestions
  left out, as the downloads) and stores it in its
  :class:`~documents.models.DocumentSearch` row with the revision and
  title it was read at; on PostgreSQL also the ``tsvector`` of the title
  (weight A) and the body (weight B), under a GIN index. The live
  authority never waits for this: its keeper calls :func:`mark_changed`
  after a commit (a set insert under a lock), and one background thread
  indexes the marked documents every :data:`FLUSH_SECONDS`, so an edited
  document is read at most once per interval however fast people type.
  New documents are marked by ``documents.services.document_create`` once
  committed. A row behind its document's ``head_revision`` or title (a
  rename, marks lost when a process stopped) or missing is caught up by
  the next search that would look at it (:func:`refresh_stale`, bounded),
  and ``manage.py reindex_search`` rebuilds everything.
* **Finding.** :func:`matching` filters and ranks a list's queryset. On
  PostgreSQL: full-text search in the stored vector (title A, body B),
  ``websearch_to_tsquery`` semantics ("quoted phrases", ``or``, ``-word``),
  the last word also matched as a prefix while people type, ranked by
  ``ts_rank_cd`` after title matches. Elsewhere (SQLite in ``make run``):
  every word must occur in the title or the text, title matches first.
  :func:`snippets` answers
  the highlighted excerpt of each document on a page: HTML-escaped, where
  only the ``<mark>`` tags are markup.

Failure modes: indexing a document that was deleted meanwhile does
nothing; a failed index (storage down) is logged and left to the next
mark or search; two indexers racing keep the text of the later revision
(the stored revision only moves forward). On PostgreSQL, body text past
:data:`VECTOR_MAX_CHARS` is not in the ``tsvector`` and so not found
(PostgreSQL limits a ``tsvector`` to 1 MB).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable
from typing import Any

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVector,
    SearchVectorField,
)
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, FloatField, Func, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Left, Replace
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from documents.content import document_state
from documents.export import export_text
from documents.models import Document, DocumentSearch

logger = logging.getLogger(__name__)

#: The text search configuration of the stored vectors and of every query:
#: they must agree.
CONFIG = "english"
#: Seconds the indexer gathers marks before reading the marked documents.
FLUSH_SECONDS = 2.0
#: A document read in t seconds is read again t * COST_FACTOR seconds later
#: at the soonest: at most 1/COST_FACTOR of a core per document.
COST_FACTOR = 20
#: Characters of body text put in the ``tsvector``.
VECTOR_MAX_CHARS = 250_000
#: Characters of body text ``ts_headline`` reads for a snippet.
HEADLINE_MAX_CHARS = 200_000
#: Rows behind their document one search catches up at most.
STALE_PER_SEARCH = 100
#: Characters of context either side of the first match (fallback snippet).
SNIPPET_CONTEXT = 80

# Private-use characters mark the matches inside ts_headline's output, so
# the text can be escaped as a whole and only these become <mark> tags.
# plain_text drops them from documents: no document can forge a mark.
_START = "\ue000"
_STOP = "\ue001"
# ts_headline's parser takes "<b>" for an HTML tag and drops it: the text
# goes to it with angle brackets swapped for these, swapped back after.
_LT = "\ue002"
_GT = "\ue003"
_PRIVATE = (_START, _STOP, _LT, _GT)
_WORD = re.compile(r"\w+")


def plain_text(content: Iterable[dict[str, Any]]) -> str:
    """Return the searchable text of ``content`` (as the plain-text download reads)."""
    text = export_text(content)
    for char in _PRIVATE:
        text = text.replace(char, "")
    return text


def uses_full_text() -> bool:
    """Return whether the database does PostgreSQL full-text search."""
    return connection.vendor == "postgresql"


# Keeping the text ----------------------------------------------------------


def _vector(title: str, text: str) -> SearchVector:
    """Return the stored vector: the title (weight A) and the body (weight B)."""
    return SearchVector(Value(title), config=CONFIG, weight="A") + SearchVector(
        Value(text[:VECTOR_MAX_CHARS]), config=CONFIG, weight="B"
    )


def _store(document_pk: int, revision: int, title: str, text: str) -> None:
    """Store the title and ``text`` read at ``revision``, unless a later one is stored."""
    fields: dict[str, Any] = {
        "revision": revision,
        "title": title,
        "text": text,
        "updated_at": timezone.now(),
    }
    if uses_full_text():
        fields["vector"] = _vector(title, text)
    rows = DocumentSearch.objects.filter(document_id=document_pk, revision__lte=revision)
    if rows.update(**fields) or DocumentSearch.objects.filter(document_id=document_pk).exists():
        return
    try:
        with transaction.atomic():
            DocumentSearch.objects.create(document_id=document_pk, revision=revision)
            rows.update(**fields)
    except IntegrityError:
        # Another indexer created the row first, or the document is gone.
        rows.update(**fields)


def index_document(document_pk: int) -> bool:
    """Read the document's current text into its search row; False if it is gone."""
    document = Document.objects.select_related("snapshot").filter(pk=document_pk).first()
    if document is None:
        return False
    state = document_state(document)
    _store(document_pk, state.revision, document.title, plain_text(state.content))
    return True


#: A search row missing, behind its document's revision, or of another title.
_STALE = (
    Q(search__isnull=True)
    | Q(search__revision__lt=F("head_revision"))
    | ~Q(search__title=F("title"))
)


def refresh_stale(queryset: QuerySet[Document], *, limit: int = STALE_PER_SEARCH) -> int:
    """Index up to ``limit`` documents of ``queryset`` whose row is missing or behind."""
    stale = queryset.filter(_STALE).values_list("pk", flat=True)
    done = 0
    for pk in list(stale.order_by()[:limit]):
        done += index_document(pk)
    return done


def reindex_all(*, stale_only: bool = False) -> int:
    """Index every document (or those behind); return how many were indexed."""
    documents = Document.objects.all()
    if stale_only:
        documents = documents.filter(_STALE)
    done = 0
    for pk in documents.order_by("pk").values_list("pk", flat=True).iterator():
        done += index_document(pk)
    return done


class _Marks:
    """Documents changed since the last flush, and the thread that flushes them.

    The thread starts with the first mark and ends once a flush finds
    nothing marked, so an idle process holds no thread and no connection.
    It shares the interpreter with the event loop: a document whose reading
    took ``t`` seconds waits ``COST_FACTOR * t`` (at least
    :data:`FLUSH_SECONDS`) before it is read again, so indexing one large
    document that people keep typing in takes at most a small share of the
    process's time.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: set[int] = set()
        self._thread: threading.Thread | None = None
        #: Document -> monotonic time before which it is not read again.
        self._not_before: dict[int, float] = {}

    def mark(self, document_pk: int) -> None:
        with self._lock:
            self._pending.add(document_pk)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="search-index", daemon=True)
                self._thread.start()

    def _take(self) -> set[int] | None:
        """Return the marked documents due now (the others stay marked).

        None when nothing is marked: the thread ends, and the next mark
        starts another (both decided under the lock).
        """
        now = time.monotonic()
        with self._lock:
            self._not_before = {pk: t for pk, t in self._not_before.items() if t > now}
            if not self._pending:
                self._thread = None
                return None
            due = {pk for pk in self._pending if pk not in self._not_before}
            self._pending -= due
            return due

    def _run(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            batch = self._take()
            if batch is None:
                return
            try:
                for pk in sorted(batch):
                    started = time.monotonic()
                    try:
                        index_document(pk)
                    except Exception as exc:  # noqa: BLE001 - the next mark or search retries
                        logger.warning("indexing document %s for search failed: %s", pk, exc)
                    took = time.monotonic() - started
                    with self._lock:
                        self._not_before[pk] = started + max(FLUSH_SECONDS, COST_FACTOR * took)
            finally:
                # This thread is not a request: nothing else closes its connection.
                connection.close()


_marks = _Marks()


def mark_changed(document_pk: int) -> None:
    """Have the document's search text read again within :data:`FLUSH_SECONDS`.

    Cheap and non-blocking: safe on the event loop after every commit.
    """
    _marks.mark(document_pk)


# Finding -------------------------------------------------------------------


def terms_of(search: str) -> list[str]:
    """Return the words of a search (what the fallback and prefix matching use)."""
    return _WORD.findall(search.lower())


def _tsquery(search: str) -> SearchQuery:
    """Return the query: ``websearch_to_tsquery``, the last word also as a prefix.

    A last word typed halfway ("collab") matches "collaborative"; a phrase
    being typed, a negated or an ``or`` last word is taken as written.
    """
    query = SearchQuery(search, search_type="websearch", config=CONFIG)
    tokens = search.split()
    last = tokens[-1] if tokens else ""
    if search.count('"') % 2 or not re.fullmatch(r"\w+", last) or last.lower() == "or":
        return query
    rest = " ".join(tokens[:-1])
    prefix = SearchQuery(f"'{last.lower()}':*", search_type="raw", config=CONFIG)
    if rest:
        prefix = SearchQuery(rest, search_type="websearch", config=CONFIG) & prefix
    return query | prefix


def matching(queryset: QuerySet[Document], search: str) -> QuerySet[Document]:
    """Return the documents of ``queryset`` matching ``search``, with ``search_rank``.

    Higher ``search_rank`` is a better match; the caller orders by it.
    Rows of ``queryset`` whose text is missing or behind are indexed first
    (a bounded number, :func:`refresh_stale`).
    """
    refresh_stale(queryset)
    if uses_full_text():
        query = _tsquery(search)
        # A title hit ranks above any number of body hits: 1 for the title,
        # plus ts_rank_cd scaled into [0, 1) (normalization 32: rank/(rank+1)).
        title_only = Func(
            F("search__vector"),
            template="ts_filter(%(expressions)s, '{a}')",
            output_field=SearchVectorField(),
        )
        # The title as typed, too: PostgreSQL's parser drops anything shaped
        # like a tag ("<script>") and splits words it cannot stem, and the
        # lists found titles by substring before; a search finds no fewer.
        in_title = Q(title__icontains=search.strip())
        return (
            queryset.filter(Q(search__vector=query) | in_title)
            .annotate(search_title=title_only)
            .annotate(
                search_rank=Case(
                    When(Q(search_title=query) | in_title, then=Value(1.0)),
                    default=Value(0.0),
                    output_field=FloatField(),
                )
                + SearchRank(F("search__vector"), query, cover_density=True, normalization=32)
            )
        )
    words = terms_of(search)
    if not words:
        return queryset.annotate(search_rank=Value(0)).none()
    for word in words:
        queryset = queryset.filter(Q(title__icontains=word) | Q(search__text__icontains=word))
    in_title = Q()
    for word in words:
        in_title &= Q(title__icontains=word)
    return queryset.annotate(
        search_rank=Case(
            When(in_title, then=Value(1)), default=Value(0), output_field=IntegerField()
        )
    )


def _marked(text: str) -> SafeString:
    """Escape ``text`` and turn the private marks into ``<mark>`` tags."""
    html = escape(" ".join(text.split())).replace(_LT, "&lt;").replace(_GT, "&gt;")
    # Safe: escaped above; the private marks are the only markup added.
    return mark_safe(html.replace(_START, "<mark>").replace(_STOP, "</mark>"))


def fallback_snippet(text: str, search: str) -> SafeString:
    """Return the text around the first match of a word of ``search``, marked."""
    words = terms_of(search)
    lowered = text.lower()
    found = [(lowered.find(word), word) for word in words if lowered.find(word) >= 0]
    if not found:
        return SafeString("")
    first = min(index for index, _ in found)
    start = max(0, first - SNIPPET_CONTEXT)
    end = min(len(text), first + SNIPPET_CONTEXT * 2)
    excerpt = text[start:end]
    pattern = re.compile("|".join(re.escape(word) for _, word in found), re.IGNORECASE)
    excerpt = pattern.sub(lambda match: f"{_START}{match.group(0)}{_STOP}", excerpt)
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    return _marked(prefix + excerpt + suffix)


def snippets(*, document_pks: Iterable[int], search: str) -> dict[int, SafeString]:
    """Return the highlighted excerpt of each document's body matching ``search``.

    Documents whose body does not match (a title match) get no excerpt.
    """
    pks = list(document_pks)
    if not pks or not search.strip():
        return {}
    rows = DocumentSearch.objects.filter(document_id__in=pks)
    out: dict[int, SafeString] = {}
    if uses_full_text():
        headlines = rows.annotate(
            headline=SearchHeadline(
                Replace(
                    Replace(Left("text", HEADLINE_MAX_CHARS), Value("<"), Value(_LT)),
                    Value(">"),
                    Value(_GT),
                ),
                _tsquery(search),
                config=CONFIG,
                start_sel=_START,
                stop_sel=_STOP,
                max_words=30,
                min_words=12,
                max_fragments=2,
                fragment_delimiter=" … ",
            )
        ).values_list("document_id", "headline")
        for pk, headline in headlines:
            if headline and _START in headline:
                out[pk] = _marked(headline)
        return out
    for pk, text in rows.values_list("document_id", "text"):
        snippet = fallback_snippet(text, search)
        if snippet:
            out[pk] = snippet
    return out
