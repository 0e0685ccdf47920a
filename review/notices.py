"""Who hears about what happens in a review, and what they are told.

Through :func:`notifications.services.notify`, which drops a notice to the
actor, to inactive people and to anyone who cannot view the document, and
pushes and emails after commit. Rules:

* a message mentions someone who can see the document: ``mention``;
* a new message in a thread: ``reply`` to its earlier participants (the
  starter and the authors of earlier messages), except those the message
  mentions (they hear ``mention`` instead: one notice per person);
* suggestions decided: ``suggestion_accepted`` / ``suggestion_rejected``,
  one notice per author however many of their suggestions were decided.

Links point back at the place: ``/d/<id>/#thread-<tid>`` and
``/d/<id>/#suggestion-<mark>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.urls import reverse

from documents.models import Document
from documents.people import display_name
from notifications.models import Kind
from notifications.services import notify
from review.models import Message, Thread

# Kind(member) is the member; without django-stubs mypy types a bare
# ``Kind.MENTION`` as its (value, label) tuple.
MENTION, REPLY = Kind(Kind.MENTION), Kind(Kind.REPLY)
ACCEPTED, REJECTED = Kind(Kind.SUGGESTION_ACCEPTED), Kind(Kind.SUGGESTION_REJECTED)

#: Characters of a message quoted in a notice.
EXCERPT_LENGTH = 120


def _doc_url(document: Document) -> str:
    return reverse("documents:detail", args=[document.public_id])


def thread_url(document: Document, thread_id: str) -> str:
    """Return the path that opens the document at a thread."""
    return f"{_doc_url(document)}#thread-{thread_id}"


def suggestion_url(document: Document, mark: str) -> str:
    """Return the path that opens the document at a suggestion."""
    return f"{_doc_url(document)}#suggestion-{mark}"


def _excerpt(body: str) -> str:
    text = " ".join(body.split())
    return text if len(text) <= EXCERPT_LENGTH else text[: EXCERPT_LENGTH - 1] + "…"


def message_posted(
    *,
    thread: Thread,
    message: Message,
    actor: Any,
    mentioned: Iterable[Any],
    earlier_participant_ids: Iterable[int],
) -> None:
    """Tell the people ``message`` mentions, and the thread's earlier participants."""
    document = thread.document
    who, title = display_name(actor), document.title
    url = thread_url(document, thread.public_id)
    excerpt = _excerpt(message.body)
    told: set[int] = set()
    for person in mentioned:
        told.add(person.pk)
        notify(
            recipient=person,
            kind=MENTION,
            document=document,
            actor=actor,
            text=f"{who} mentioned you in “{title}”: {excerpt}",
            url=url,
        )
    others = [pk for pk in earlier_participant_ids if pk not in told]
    people = get_user_model()._default_manager.in_bulk(others)
    for pk in others:
        if pk in people:
            notify(
                recipient=people[pk],
                kind=REPLY,
                document=document,
                actor=actor,
                text=f"{who} replied in a thread on “{title}”: {excerpt}",
                url=url,
            )


def suggestions_decided(
    *, document: Document, actor: Any, accept: bool, marks_by_author: dict[int, list[str]]
) -> None:
    """Tell each author that ``actor`` accepted (or rejected) their suggestions."""
    who, title = display_name(actor), document.title
    verb = "accepted" if accept else "rejected"
    kind = ACCEPTED if accept else REJECTED
    people = get_user_model()._default_manager.in_bulk(list(marks_by_author))
    for author_id, marks in marks_by_author.items():
        person = people.get(author_id)
        if person is None or not marks:
            continue  # the mark names an account that no longer exists
        what = "your suggestion" if len(marks) == 1 else f"{len(marks)} of your suggestions"
        notify(
            recipient=person,
            kind=kind,
            document=document,
            actor=actor,
            text=f"{who} {verb} {what} in “{title}”",
            url=suggestion_url(document, marks[0]),
        )
