"""Documents people opened through a share link, for "Shared with me".

:func:`record_link_open` runs when a valid link is followed
(:func:`documents.views.document_detail`). It keeps the token followed;
the list shows the document only while the document's link is on with
that same token (:func:`documents.lists.document_list_shared_with`), so
turning the link off or making a new one takes it off the list without
touching these rows.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from documents.models import Document, LinkOpen


def record_link_open(*, user: AbstractBaseUser, document: Document, token: str) -> None:
    """Record that ``user`` opened ``document`` through its link with ``token``.

    One row per person and document: following a new link replaces the token.
    Owners are not recorded (their documents are listed as theirs).
    """
    if document.owner_id == user.pk:
        return
    LinkOpen.objects.update_or_create(
        user=user, document=document, defaults={"token": token, "opened_at": timezone.now()}
    )
