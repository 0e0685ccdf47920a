"""Writes of the review app: threads and their messages.

Each function takes the actor and their :class:`DocumentAccess` (the caller
computed it with the session's link token), checks what the actor may do,
validates the input, changes the rows in one transaction and, after commit,
tells every socket on the document (:func:`documents.events.review_changed`)
and notifies the people concerned (:mod:`review.notices`). A refusal raises
before anything changes:

* ``ActionNotAllowed`` (403): the actor may see the document but not do this;
* ``ValidationError`` (400): the input is wrong, with a message for people;
* ``ThreadNotFound`` / ``MessageNotFound`` (404).

Who may do what: anyone who can view reads threads; commenters and editors
start threads, reply, resolve and re-open; each person edits and deletes
their own messages; a thread is deleted by its starter or an editor, which
also removes its anchors from the live content (:mod:`review.edits`).
Deleting a thread's first message deletes the thread.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from documents import events
from documents.exceptions import ActionNotAllowed
from documents.live import uncomment_edit
from documents.models import Document
from documents.selectors import DocumentAccess, document_viewers
from review import notices
from review.edits import apply_review_edit
from review.mentions import candidates, mentioned
from review.models import BODY_MAX_LENGTH, QUOTE_MAX_LENGTH, Message, Thread
from review.presenters import thread_json
from review.selectors import THREAD_ID, message_get, thread_get, thread_participant_ids


def _may_comment(access: DocumentAccess, document: Document) -> None:
    if document.is_trashed:
        raise ValidationError("Restore the document from the trash first.", code="trashed")
    if not access.can_comment:
        raise ActionNotAllowed("You can view this document but not comment on it.")


def clean_body(body: Any) -> str:
    """Return a message body stripped, or raise ``ValidationError`` saying why not."""
    if not isinstance(body, str):
        raise ValidationError("The message must be text.", code="invalid")
    body = body.strip()
    if not body:
        raise ValidationError("Write something first.", code="required")
    if len(body) > BODY_MAX_LENGTH:
        raise ValidationError(
            f"A message can be at most {BODY_MAX_LENGTH} characters; this one has {len(body)}.",
            code="too_long",
        )
    if "\x00" in body:
        raise ValidationError("The message contains a NUL character.", code="invalid")
    return body


def _clean_quote(quote: Any) -> str:
    if not isinstance(quote, str):
        raise ValidationError("The quote must be text.", code="invalid")
    if len(quote) > QUOTE_MAX_LENGTH:
        raise ValidationError(
            f"The quoted text can be at most {QUOTE_MAX_LENGTH} characters.", code="too_long"
        )
    if "\x00" in quote:
        raise ValidationError("The quote contains a NUL character.", code="invalid")
    return quote


def _mentioned_people(document: Document, body: str) -> list[Any]:
    """Return the people who can view ``document`` whom ``body`` mentions, in order."""
    names = candidates(body)
    if not names:
        return []
    viewers = document_viewers(document=document)
    field = viewers.model.USERNAME_FIELD
    # Only the usernames the body could mean are read, never the whole list.
    matching = Q()
    for name in names:
        matching |= Q(**{f"{field}__iexact": name})
    people = {user.get_username(): user for user in viewers.filter(matching)}
    return [people[name] for name in mentioned(body, people)]


def _changed(thread: Thread) -> dict[str, Any]:
    """Send the thread to every socket after commit; return its JSON."""
    fresh = thread_get(document=thread.document, thread_id=thread.public_id)
    data = thread_json(fresh)
    events.review_changed(
        public_id=thread.document.public_id, payload={"event": "thread", "thread": data}
    )
    return data


def thread_create(
    *,
    document: Document,
    access: DocumentAccess,
    actor: Any,
    thread_id: Any,
    quote: Any,
    body: Any,
) -> dict[str, Any]:
    """Start a thread with its first message; return the thread's JSON.

    ``thread_id`` is the id the browser chose and marks the text with.
    """
    _may_comment(access, document)
    if not isinstance(thread_id, str) or not THREAD_ID.fullmatch(thread_id):
        raise ValidationError(
            "A thread id is 10 to 24 lowercase letters and digits.", code="invalid_id"
        )
    quote, body = _clean_quote(quote), clean_body(body)
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                thread = Thread.objects.create(
                    document=document,
                    public_id=thread_id,
                    quote=quote,
                    created_by=actor,
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError:
            raise ValidationError(
                "A thread with this id already exists on this document.", code="duplicate"
            ) from None
        thread.document = document
        _post(document, thread, actor, body, now, earlier_participant_ids=[])
        return _changed(thread)


def _post(
    document: Document,
    thread: Thread,
    actor: Any,
    body: str,
    now: datetime,
    *,
    earlier_participant_ids: list[int],
) -> Message:
    """Store a message in ``thread``, record its mentions and tell the people concerned."""
    message = Message.objects.create(thread=thread, author=actor, body=body, created_at=now)
    people = _mentioned_people(document, body)
    message.mentions.set(people)
    notices.message_posted(
        thread=thread,
        message=message,
        actor=actor,
        mentioned=people,
        earlier_participant_ids=earlier_participant_ids,
    )
    return message


def message_add(
    *, document: Document, access: DocumentAccess, actor: Any, thread_id: str, body: Any
) -> dict[str, Any]:
    """Reply in a thread (re-opening it if it was resolved); return the thread's JSON."""
    _may_comment(access, document)
    body = clean_body(body)
    with transaction.atomic():
        thread = _locked(document, thread_id)
        earlier = thread_participant_ids(thread=thread)
        now = timezone.now()
        # A reply re-opens a resolved thread, as in Google Docs: the
        # conversation is going on again.
        Thread.objects.filter(pk=thread.pk).update(
            updated_at=now, resolved_at=None, resolved_by=None
        )
        _post(document, thread, actor, body, now, earlier_participant_ids=earlier)
        return _changed(thread)


def _locked(document: Document, thread_id: str) -> Thread:
    """Return the thread, its row locked until the transaction ends (ThreadNotFound)."""
    # Lock first, then read: the participants and messages read next are
    # the ones no concurrent reply or resolve can change until commit.
    list(
        Thread.objects.select_for_update()
        .filter(document=document, public_id=str(thread_id))
        .values_list("pk", flat=True)
    )
    thread = thread_get(document=document, thread_id=thread_id)
    thread.document = document
    return thread


def _own_message(thread: Thread, message_id: int, actor: Any) -> Message:
    message = message_get(thread=thread, message_id=message_id)
    if message.author_id != actor.pk:
        raise ActionNotAllowed("You can only change your own messages.")
    if message.is_removed:
        raise ActionNotAllowed("A moderator removed this message; it can’t be changed.")
    return message


def message_edit(
    *,
    document: Document,
    access: DocumentAccess,
    actor: Any,
    thread_id: str,
    message_id: int,
    body: Any,
) -> dict[str, Any]:
    """Change the text of one's own message; return the thread's JSON.

    People newly mentioned by the edit are notified; those mentioned
    before are not told again.
    """
    _may_comment(access, document)
    body = clean_body(body)
    with transaction.atomic():
        thread = _locked(document, thread_id)
        message = _own_message(thread, message_id, actor)
        before = set(message.mentions.values_list("pk", flat=True))
        Message.objects.filter(pk=message.pk).update(body=body, edited_at=timezone.now())
        message.body = body
        people = _mentioned_people(document, body)
        message.mentions.set(people)
        Thread.objects.filter(pk=thread.pk).update(updated_at=timezone.now())
        notices.message_posted(
            thread=thread,
            message=message,
            actor=actor,
            mentioned=[person for person in people if person.pk not in before],
            earlier_participant_ids=[],
        )
        return _changed(thread)


def message_delete(
    *, document: Document, access: DocumentAccess, actor: Any, thread_id: str, message_id: int
) -> dict[str, Any] | None:
    """Delete one's own message; return the thread's JSON, or None if the thread went too.

    Deleting the first message deletes the thread (and its anchors).
    """
    _may_comment(access, document)
    thread = thread_get(document=document, thread_id=thread_id)
    thread.document = document
    message = _own_message(thread, message_id, actor)
    first = thread.messages.all()[0]
    if message.pk == first.pk:
        _remove_thread(document=document, thread=thread, actor=actor)
        return None
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).delete()
        Thread.objects.filter(pk=thread.pk).update(updated_at=timezone.now())
        return _changed(thread)


def _set_resolved(
    *, document: Document, access: DocumentAccess, actor: Any, thread_id: str, resolved: bool
) -> dict[str, Any]:
    _may_comment(access, document)
    with transaction.atomic():
        thread = _locked(document, thread_id)
        now = timezone.now()
        Thread.objects.filter(pk=thread.pk).update(
            updated_at=now,
            resolved_at=now if resolved else None,
            resolved_by=actor if resolved else None,
        )
        return _changed(thread)


def thread_resolve(
    *, document: Document, access: DocumentAccess, actor: Any, thread_id: str
) -> dict[str, Any]:
    """Mark a thread resolved (again: it stays resolved, by the latest resolver)."""
    return _set_resolved(
        document=document, access=access, actor=actor, thread_id=thread_id, resolved=True
    )


def thread_reopen(
    *, document: Document, access: DocumentAccess, actor: Any, thread_id: str
) -> dict[str, Any]:
    """Re-open a resolved thread (a thread already open stays open)."""
    return _set_resolved(
        document=document, access=access, actor=actor, thread_id=thread_id, resolved=False
    )


def thread_delete(
    *, document: Document, access: DocumentAccess, actor: Any, thread_id: str
) -> None:
    """Delete a thread with its messages and remove its anchors from the content.

    Its starter (who can still comment) or an editor may.
    """
    _may_comment(access, document)
    thread = thread_get(document=document, thread_id=thread_id)
    thread.document = document
    if not access.can_edit and thread.created_by_id != actor.pk:
        raise ActionNotAllowed(
            "Only the person who started this thread or an editor can delete it."
        )
    _remove_thread(document=document, thread=thread, actor=actor)


def _remove_thread(*, document: Document, thread: Thread, actor: Any) -> None:
    # The anchors go first: if the authority cannot change the content now,
    # ReviewChangeFailed leaves the thread and its anchors as they were. If
    # the row's delete failed afterwards, the thread would stay, detached.
    apply_review_edit(document=document, edit=uncomment_edit([thread.public_id]), actor=actor)
    with transaction.atomic():
        Thread.objects.filter(pk=thread.pk).delete()
        events.review_changed(
            public_id=document.public_id,
            payload={"event": "thread_removed", "id": thread.public_id},
        )


def thread_removed_by_staff(threads: list[Thread]) -> None:
    """Tell each thread's document that staff deleted it (admin), after commit."""
    for thread in threads:
        events.review_changed(
            public_id=thread.document.public_id,
            payload={"event": "thread_removed", "id": thread.public_id},
        )


def message_remove(*, message: Message, moderator: Any) -> None:
    """Hide a message as a moderator (admin): its body is never shown again.

    The body stays stored for the moderators; the thread's participants see
    "removed" in its place, live.
    """
    with transaction.atomic():
        updated = Message.objects.filter(pk=message.pk, removed_at__isnull=True).update(
            removed_at=timezone.now(), removed_by=moderator
        )
        if not updated:
            return
        thread = Thread.objects.select_related("document").get(pk=message.thread_id)
        Thread.objects.filter(pk=thread.pk).update(updated_at=timezone.now())
        _changed(thread)
