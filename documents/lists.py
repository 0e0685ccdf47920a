"""Reads: the document lists people see (mine, shared with me, starred, trash).

Each list is a queryset of the documents one person may see in it, searched
(:mod:`documents.search`) and sorted (:data:`SORTS`) as the page asks:

* **My documents**: theirs, outside the trash.
* **Shared with me**: others' documents shared with them directly or
  through a group, and those they opened through a share link while that
  link stays on with the same token (:class:`~documents.models.LinkOpen`).
* **Starred**: the documents of either list they starred.
* **Trash**: theirs, in the trash.

Access here must agree with :func:`documents.selectors.document_access`:
a trashed document is its owner's alone, a link counts only while it is
on with the token the person was given.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Concat, Lower, NullIf, Trim
from guardian.shortcuts import get_objects_for_user

from documents.models import Document, LinkMode, LinkOpen, Star
from documents.roles import COMMENT, EDIT, VIEW
from documents.search import matching as search_matching

SEARCH_MAX_LENGTH = 200


#: The orders a list can be sorted in (``?sort=``): name -> the fields
#: ordered by. Each ends with the primary key, so a page never repeats or
#: skips a row between requests. ``relevance`` applies to searches only.
SORTS: dict[str, tuple[str, ...]] = {
    "edited": ("-updated_at", "-id"),
    "-edited": ("updated_at", "id"),
    "title": ("title_key", "id"),
    "-title": ("-title_key", "-id"),
    "owner": ("owner_key", "title_key", "id"),
    "-owner": ("-owner_key", "-title_key", "-id"),
    "relevance": ("-search_rank", "-updated_at", "-id"),
}
#: In the trash "edited" means "moved to the trash".
_TRASH_SORTS = {"edited": ("-trashed_at", "-id"), "-edited": ("trashed_at", "id")}


def clean_search(search: str | None) -> str:
    """Return the search as used: trimmed, at most ``SEARCH_MAX_LENGTH`` characters."""
    return (search or "").strip()[:SEARCH_MAX_LENGTH]


def clean_sort(sort: str | None, *, search: str) -> str:
    """Return a known sort: ``relevance`` by default while searching, else ``edited``."""
    default = "relevance" if search else "edited"
    if not sort or sort not in SORTS or (sort == "relevance" and not search):
        return default
    return sort


def _listing(
    queryset: QuerySet[Document], search: str, sort: str = "", *, trash: bool = False
) -> QuerySet[Document]:
    search = clean_search(search)
    queryset = queryset.select_related("owner", "last_edited_by")
    if search:
        queryset = search_matching(queryset, search)
    sort = clean_sort(sort, search=search)
    fields = _TRASH_SORTS.get(sort) if trash else None
    # Owners by the name the list shows (full name, else username).
    full_name = Trim(Concat("owner__first_name", Value(" "), "owner__last_name"))
    return queryset.annotate(
        title_key=Lower("title"),
        owner_key=Lower(Coalesce(NullIf(full_name, Value("")), "owner__username")),
    ).order_by(*(fields or SORTS[sort]))


def document_list_owned(
    *, user: AbstractBaseUser, search: str = "", sort: str = ""
) -> QuerySet[Document]:
    """Return the user's own documents outside the trash, newest first."""
    return _listing(Document.objects.filter(owner=user, trashed_at__isnull=True), search, sort)


def _shared_ids(user: AbstractBaseUser) -> QuerySet[Any]:
    """Return the pks of documents others shared with the user, or that they opened by link."""
    candidates = Document.objects.filter(trashed_at__isnull=True).exclude(owner=user)
    shared = get_objects_for_user(
        user,
        [f"documents.{VIEW}", f"documents.{COMMENT}", f"documents.{EDIT}"],
        klass=candidates,
        any_perm=True,
        with_superuser=False,
        accept_global_perms=False,
    )
    return Document.objects.filter(
        Q(pk__in=shared.values("pk")) | Q(pk__in=_link_opened(user).values("document_id"))
    ).values("pk")


def _link_opened(user: AbstractBaseUser) -> QuerySet[LinkOpen]:
    """Return the user's link openings that still open their document.

    The link must be on and carry the token the person opened it with: a
    link turned off or replaced drops the document from the list at once.
    """
    return (
        LinkOpen.objects.filter(user=user, token=F("document__link_token"))
        .exclude(document__link_mode=LinkMode.OFF)
        .filter(document__trashed_at__isnull=True)
        .exclude(document__owner=user)
    )


def document_list_shared_with(
    *, user: AbstractBaseUser, search: str = "", sort: str = ""
) -> QuerySet[Document]:
    """Return documents others shared with the user or their groups, newest first.

    Documents the user opened through their share link are listed too,
    while that link is on with the same token (:class:`LinkOpen`).
    """
    return _listing(Document.objects.filter(pk__in=_shared_ids(user)), search, sort)


def document_list_starred(
    *, user: AbstractBaseUser, search: str = "", sort: str = ""
) -> QuerySet[Document]:
    """Return the documents the user starred and can still open, newest first.

    A star on a document the person lost access to (unshared, link off,
    trashed) is kept but not listed: it shows again if access comes back.
    """
    visible = Q(owner=user, trashed_at__isnull=True) | Q(pk__in=_shared_ids(user))
    starred = Star.objects.filter(user=user).values("document_id")
    return _listing(Document.objects.filter(visible, pk__in=starred), search, sort)


def document_list_trashed(
    *, user: AbstractBaseUser, search: str = "", sort: str = ""
) -> QuerySet[Document]:
    """Return the user's documents in the trash, most recently trashed first."""
    return _listing(
        Document.objects.filter(owner=user, trashed_at__isnull=False), search, sort, trash=True
    )


def starred_ids(*, user: AbstractBaseUser, documents: Iterable[Document]) -> set[int]:
    """Return the pks of ``documents`` the user starred (one query)."""
    pks = [document.pk for document in documents]
    return set(
        Star.objects.filter(user=user, document_id__in=pks).values_list("document_id", flat=True)
    )
