"""Signals other apps hear from documents, sent only after a commit.

Higher layers (notifications, review) must not be imported from here, so
they learn about sharing by connecting to these signals in their
``AppConfig.ready``. Like :mod:`documents.events`, sending waits for the
surrounding transaction to commit (``transaction.on_commit``): a share that
rolls back is never announced.

A receiver that raises is logged and skipped (``send_robust``): the share
is already committed, and one failing listener must neither fail the
request nor keep the others from hearing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

#: Someone was given a role on a document, or their role changed. Sent with
#: keyword arguments ``document`` (the Document), ``actor`` (who shared),
#: ``user`` (who was given access) and ``role`` (a ``documents.roles.Role``).
#: A group share sends one per active member of the group. The sender is
#: the Document class.
document_shared = Signal()


def send_on_commit(signal: Signal, *, sender: type, **kwargs: Any) -> None:
    """Send ``signal`` with ``kwargs`` once the current transaction commits."""

    def send() -> None:
        for receiver, result in signal.send_robust(sender=sender, **kwargs):
            if isinstance(result, Exception):
                logger.error(
                    "Receiver %r of a documents signal failed",
                    receiver,
                    exc_info=(type(result), result, result.__traceback__),
                )

    transaction.on_commit(send)
