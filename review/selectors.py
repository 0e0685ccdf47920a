"""Reads of the review app: threads, one thread, one message, suggestion authors.

:func:`thread_list` answers in two queries whatever the number of threads
(threads with their people, then every message with its author), so a
document with 500 threads opens as fast as one with five.
"""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Prefetch, Q, QuerySet

from documents.models import Document, DocumentVersion, Operation
from documents.selectors import document_viewers
from review.exceptions import MessageNotFound, ThreadNotFound
from review.models import Message, Thread

#: A thread id as the browser makes it and comment marks carry it.
THREAD_ID = re.compile(r"[0-9a-z]{10,24}")


def _messages() -> QuerySet[Message]:
    return Message.objects.select_related("author").order_by("created_at", "id")


def thread_list(*, document: Document) -> list[Thread]:
    """Return the document's threads, oldest first, each with its messages prefetched."""
    return list(
        Thread.objects.filter(document=document)
        .select_related("created_by", "resolved_by")
        .prefetch_related(Prefetch("messages", queryset=_messages()))
        .order_by("created_at", "id")
    )


def thread_get(*, document: Document, thread_id: str) -> Thread:
    """Return one thread of the document with its messages prefetched.

    :raises ThreadNotFound: no such thread on this document (or a malformed id).
    """
    if not isinstance(thread_id, str) or not THREAD_ID.fullmatch(thread_id):
        raise ThreadNotFound(thread_id)
    thread = (
        Thread.objects.filter(document=document, public_id=thread_id)
        .select_related("created_by", "resolved_by", "document")
        .prefetch_related(Prefetch("messages", queryset=_messages()))
        .first()
    )
    if thread is None:
        raise ThreadNotFound(thread_id)
    return thread


def message_get(*, thread: Thread, message_id: int) -> Message:
    """Return one message of the thread.

    :raises MessageNotFound: no such message in this thread.
    """
    for message in thread.messages.all():  # prefetched by thread_get
        if message.pk == message_id:
            return message
    raise MessageNotFound(message_id)


def thread_participant_ids(*, thread: Thread) -> list[int]:
    """Return the ids of the thread's starter and message authors, first seen first."""
    ids: list[int] = []
    candidates = [thread.created_by_id] + [m.author_id for m in thread.messages.all()]
    for user_id in candidates:
        if user_id is not None and user_id not in ids:
            ids.append(user_id)
    return ids


#: Most ids one ``authors`` request may name.
AUTHORS_MAX = 50


def document_contributors(*, document: Document, ids: list[int]) -> list[AbstractBaseUser]:
    """Return the people among ``ids`` who took part in the document.

    A suggestion's mark names its author by id; everyone who may view the
    document is shown that person's name. Only people who can see the
    document now, or who wrote in it (an op in its log, an author of one of
    its versions, a comment on it) are named, so a viewer cannot turn ids
    into the names of strangers. At most four queries.
    """
    wanted = sorted(set(ids))[:AUTHORS_MAX]
    if not wanted:
        return []
    found: dict[int, AbstractBaseUser] = {
        user.pk: user for user in document_viewers(document=document).filter(pk__in=wanted)
    }
    rest = [pk for pk in wanted if pk not in found]
    if rest:
        wrote = (
            Q(
                pk__in=Operation.objects.filter(document=document, author_id__in=rest).values(
                    "author_id"
                )
            )
            | Q(pk__in=DocumentVersion.objects.filter(document=document).values("authors"))
            | Q(pk__in=Message.objects.filter(thread__document=document).values("author_id"))
        )
        for user in get_user_model().objects.filter(Q(pk__in=rest) & wrote):
            found[user.pk] = user
    return [found[pk] for pk in wanted if pk in found]
