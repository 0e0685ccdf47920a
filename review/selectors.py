"""Reads of the review app: the threads of a document, one thread, one message.

:func:`thread_list` answers in two queries whatever the number of threads
(threads with their people, then every message with its author), so a
document with 500 threads opens as fast as one with five.
"""

from __future__ import annotations

import re

from django.db.models import Prefetch, QuerySet

from documents.models import Document
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
