"""Stars: a person's own bookmarks on documents (the "Starred" list).

A star is private to its person and needs only the right to view: anyone
who can open a document may star it. It outlives access (a document
unshared later keeps the row) but lists only show documents the person can
still open (:func:`documents.lists.document_list_starred`).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from documents.models import Document, Star


def star_set(*, user: AbstractBaseUser, document: Document, starred: bool) -> bool:
    """Star or unstar ``document`` for ``user``; return whether it is starred now.

    Idempotent: starring twice keeps one row (``UNIQUE(user, document)``
    settles two requests racing), unstarring an unstarred one does nothing.
    The caller checks the user may view the document.
    """
    if not starred:
        Star.objects.filter(user=user, document=document).delete()
        return False
    try:
        with transaction.atomic():
            Star.objects.get_or_create(user=user, document=document)
    except IntegrityError:
        # The other request's row won; the document is starred either way.
        pass
    return True
