"""The one boundary from Django code (services, admin, revocation) to live sockets.

Like Zulip's ``send_event_on_commit``, every public function here sends
*after the current transaction commits* (``transaction.on_commit``; at once
in autocommit), so sockets never hear about a change that was rolled back
and callers never wrap ``on_commit`` themselves. Each sends a channel-layer
group message to every socket open on the document (group ``doc.<id>``) or
of a user (group ``user.<id>``); the consumers decide what it means for
them (re-check access and session, close, update the title). With Redis
configured this reaches sockets on every worker. Group names and message
types are the contract with ``realtime.consumers``: do not rename them.

Within one transaction, document notifications are coalesced: each
document hears ``doc.access_changed`` at most once, and a document removed
in the transaction hears only ``doc.removed``.

Failure modes:

* the channel layer is down or slow: a send gives up after
  ``SEND_TIMEOUT`` seconds and logs one line; nothing here may fail or
  stall a request. Sockets do not depend on it: they re-check on their
  next op once their last check is a few seconds old, and once more when
  they rejoin their groups after a layer outage;
* the transaction rolls back: nothing is sent (its callbacks are dropped
  with it, savepoints included);
* no channel layer configured: nothing is sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import uuid
from collections.abc import Iterable
from functools import partial

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from documents.metrics import channel_layer_error

logger = logging.getLogger(__name__)

#: Seconds a notification may take before it is given up (layer down).
SEND_TIMEOUT = 2.0


def doc_group(public_id: uuid.UUID | str) -> str:
    """Return the channel-layer group of the sockets open on a document."""
    return f"doc.{public_id}"


def user_group(user_id: int) -> str:
    """Return the channel-layer group of the sockets a user has open."""
    return f"user.{int(user_id)}"


def session_tag(session_key: str) -> str:
    """Return the name a session goes by on the layer (never the key itself)."""
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


def _send_groups(groups: list[str], message: dict) -> None:
    layer = get_channel_layer()
    if layer is None or not groups:
        return

    async def send_all() -> None:
        for group in groups:
            await layer.group_send(group, message)

    async def bounded() -> None:
        await asyncio.wait_for(send_all(), timeout=SEND_TIMEOUT)

    def send() -> None:
        try:
            async_to_sync(bounded)()
        except Exception as exc:  # noqa: BLE001 - a notification must never fail the request
            # The change is committed; sockets re-check on their next op.
            channel_layer_error("send")
            logger.warning(
                "could not notify sockets (%s): %s: %s",
                ", ".join(groups[:3]),
                type(exc).__name__,
                exc,
            )

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        send()  # the usual case: a view or command thread with no loop
    else:
        # Called from synchronous code on a thread whose event loop is
        # running (a sync callback inside async code): async_to_sync
        # refuses that, so send from a short-lived thread and wait.
        worker = threading.Thread(target=send, name="realtime-events")
        worker.start()
        worker.join(timeout=SEND_TIMEOUT + 1)


def _send_doc(public_id: uuid.UUID | str, message: dict) -> None:
    _send_groups([doc_group(public_id)], message)


def users_access_changed(user_ids: Iterable[int], *, ended_session: str | None = None) -> None:
    """Tell the sockets of these users to re-check their session and access, after commit.

    ``ended_session`` (a :func:`session_tag`) names a session that was
    logged out or deleted: sockets opened with it close 4401 at once.
    """
    message: dict = {"type": "user.access_changed"}
    if ended_session is not None:
        message["ended_session"] = ended_session
    groups = [user_group(user_id) for user_id in sorted(set(user_ids))]
    transaction.on_commit(partial(_send_groups, groups, message))


def access_changed(*, public_id: uuid.UUID | str) -> None:
    """Tell open sockets that sharing changed, after commit: each re-checks its access.

    Sent once per document and transaction, and not at all when the
    transaction also removes the document.
    """
    _on_commit_doc_event("access", public_id)


def document_removed(*, public_id: uuid.UUID | str) -> None:
    """Tell open sockets the document was trashed or deleted, after commit (close 4404).

    Earlier access changes to it in the same transaction are not sent.
    """
    _on_commit_doc_event("removed", public_id)


def title_changed(*, public_id: uuid.UUID | str, title: str) -> None:
    """Tell open sockets the document's title changed, after commit."""
    transaction.on_commit(partial(_send_doc, public_id, {"type": "doc.title", "title": title}))


def review_changed(*, public_id: uuid.UUID | str, payload: dict) -> None:
    """Tell open sockets a comment thread changed, after commit.

    Each socket sends its client ``{"type": "review", **payload}``; the
    payload (a JSON object) is the review app's to define.
    """
    transaction.on_commit(partial(_send_doc, public_id, {"type": "doc.review", "payload": payload}))


def history_changed(*, public_id: uuid.UUID | str, payload: dict) -> None:
    """Tell open sockets the document's history changed, after commit.

    Each socket sends its client ``{"type": "history", **payload}``; the
    payload (a JSON object) is documents.history's to define.
    """
    transaction.on_commit(
        partial(_send_doc, public_id, {"type": "doc.history", "payload": payload})
    )


def notify_user(*, user_id: int, payload: dict) -> None:
    """Tell a user's open sockets about a new notification, after commit.

    Each socket sends its client ``{"type": "notify", **payload}``; the
    payload (a JSON object) is the notifications app's to define.
    """
    message = {"type": "user.notify", "payload": payload}
    transaction.on_commit(partial(_send_groups, [user_group(user_id)], message))


# --------------------------------------------------------------------------
# After commit, once per document
# --------------------------------------------------------------------------
#
# One change often fires several notifications for the same document: a
# share service announces itself and guardian's permission rows announce
# themselves too; deleting a document deletes its permission rows first.
# Each would make every socket on the document re-check from storage, so
# they are gathered per transaction and sent once, and a document removed
# in the transaction gets only ``doc.removed``.

_PENDING_ATTR = "_collabdocs_doc_events"

#: The message each kind of coalesced notification sends.
_DOC_MESSAGES = {"access": {"type": "doc.access_changed"}, "removed": {"type": "doc.removed"}}


class _DocEvents:
    """The document notifications one transaction owes."""

    def __init__(self) -> None:
        #: Registration order of each kind of notification per document
        #: (keyed by the id as text, so a UUID and its string are one).
        self.removed_at: dict[str, int] = {}
        self.sent: set[tuple[str, str]] = set()
        self.count = 0
        self.last: object = None
        #: Set once a callback ran: the transaction is over (a callback
        #: that starts a new one must not join this batch).
        self.flushed = False

    def deliver(self, kind: str, key: str, public_id: uuid.UUID | str, seq: int) -> None:
        """Send one notification after commit, unless sent or superseded.

        Every notification registers its own on_commit callback, so its
        fate follows the savepoint it was registered in; all were
        registered before the commit, so when they run the batch knows the
        whole transaction. An access change registered before the
        document's removal is superseded by it.
        """
        self.flushed = True
        if (kind, key) in self.sent:
            return
        if kind == "access" and self.removed_at.get(key, -1) > seq:
            return
        self.sent.add((kind, key))
        _send_doc(public_id, dict(_DOC_MESSAGES[kind]))


def _on_commit_doc_event(kind: str, public_id: uuid.UUID | str) -> None:
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        # Autocommit: the change is committed already.
        _send_doc(public_id, dict(_DOC_MESSAGES[kind]))
        return
    batch = getattr(connection, _PENDING_ATTR, None)
    # While a transaction is open, each of its callbacks stays queued until
    # it commits; once the batch's newest callback is gone the transaction
    # committed or rolled back (or a test ran its callbacks): start anew.
    if (
        batch is None
        or batch.flushed
        or not any(entry[1] is batch.last for entry in connection.run_on_commit)
    ):
        batch = _DocEvents()
        setattr(connection, _PENDING_ATTR, batch)
    key = str(public_id)
    batch.count += 1
    if kind == "removed":
        batch.removed_at[key] = batch.count
    callback = partial(batch.deliver, kind, key, public_id, batch.count)
    batch.last = callback
    transaction.on_commit(callback)
