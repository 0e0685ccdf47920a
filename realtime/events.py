"""The one boundary from Django code (views, services, admin) to live sockets.

Services call these after their transaction commits (``transaction.on_commit``)
so sockets never hear about a change that was rolled back. Each function sends
one channel-layer group message to every socket open on the document; the
consumers decide what it means for them (re-check access, close, update the
title). With Redis configured this reaches sockets on every worker.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def doc_group(public_id: uuid.UUID | str) -> str:
    """Return the channel-layer group of the sockets open on a document."""
    return f"doc.{public_id}"


def _send(public_id: uuid.UUID | str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    def send() -> None:
        async_to_sync(layer.group_send)(doc_group(public_id), message)

    try:
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
            worker.join(timeout=10)
    except Exception:  # noqa: BLE001 - a notification must never fail the request
        # The change is committed; sockets re-check access on their next op.
        logger.exception("could not notify sockets of document %s", public_id)


def access_changed(*, public_id: uuid.UUID | str) -> None:
    """Tell open sockets that sharing changed: each re-checks its access."""
    _send(public_id, {"type": "doc.access_changed"})


def document_removed(*, public_id: uuid.UUID | str) -> None:
    """Tell open sockets the document was trashed or deleted (close 4404)."""
    _send(public_id, {"type": "doc.removed"})


def title_changed(*, public_id: uuid.UUID | str, title: str) -> None:
    """Tell open sockets the document's title changed."""
    _send(public_id, {"type": "doc.title", "title": title})
