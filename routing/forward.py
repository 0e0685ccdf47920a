"""Server-made changes for a document another worker owns: ask the owner.

:Maintainer: the routing app
:Status: used by :mod:`routing.live` (asking) and :class:`routing.worker.Worker`
    (answering)

An edit (a restore, a decision on suggestions, removing a thread's
anchors: :mod:`documents.live`) must go through the document's authority so
that everyone connected sees it live, and the authority lives on the
document's owner. Anywhere else (another worker, ``manage.py shell``, a
command) :func:`apply_on_owner` sends the edit, a JSON-ready dict, over the
channel layer (Redis in a cluster) to the owner's request channel; the
owner runs :func:`realtime.restore.apply_edit` on its registry, computing
the change from the content it holds then, and answers on a reply
channel. Which worker owns the document is :mod:`routing.live`'s question;
this module is only the transport.

Each worker listens on ``routing.worker.<hash of its id>`` while it is
registered (:func:`serve_requests`, started by :class:`routing.worker.Worker`
with its registry).

Failure modes: no answer within the timeout (the owner died meanwhile), or
the owner no longer owns the document when the request arrives (the ring
changed, or the document is being handed over):
:class:`documents.live.ServerChangeFailed` with a message for people; the
person tries again. The channel layer unreachable while serving: the loop
pauses as :data:`routing.zk.CONNECTION` says and takes requests again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from dataclasses import asdict
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from documents.live import AppliedChange, InvalidEdit, ServerChangeFailed
from documents.store import DocumentMissing, StoreError
from realtime.exceptions import AuthorityClosed, NotOwner
from realtime.registry import Registry
from realtime.restore import apply_edit
from routing import zk

logger = logging.getLogger(__name__)

REQUEST = "routing.server_change"


def worker_channel(worker_id: str) -> str:
    """Return the channel-layer name a worker takes requests on."""
    digest = hashlib.blake2b(worker_id.encode("utf-8"), digest_size=10).hexdigest()
    return f"routing.worker.{digest}"


def apply_on_owner(
    *,
    owner_id: str,
    public_id: uuid.UUID,
    edit: dict[str, Any],
    user_id: int | None,
    user_name: str,
    timeout: float,
) -> AppliedChange | None:
    """Ask worker ``owner_id`` to apply an edit (blocks; sync code only).

    :returns: the :class:`documents.live.AppliedChange`, or None when there
        was nothing to do.
    :raises documents.live.ServerChangeFailed: see the module docstring.
    """
    return async_to_sync(_request)(
        owner_id=owner_id,
        public_id=public_id,
        edit=edit,
        user_id=user_id,
        user_name=user_name,
        timeout=timeout,
    )


async def _request(
    *,
    owner_id: str,
    public_id: uuid.UUID,
    edit: dict[str, Any],
    user_id: int | None,
    user_name: str,
    timeout: float,
) -> AppliedChange | None:
    layer = get_channel_layer()
    if layer is None:
        raise ServerChangeFailed("no channel layer to reach the document's server")
    reply_to = await layer.new_channel("routing.reply.")
    await layer.send(
        worker_channel(owner_id),
        {
            "type": REQUEST,
            "reply_to": reply_to,
            "doc": str(public_id),
            "edit": edit,
            "user_id": user_id,
            "user_name": user_name,
            "timeout": timeout,
        },
    )
    try:
        answer = await asyncio.wait_for(layer.receive(reply_to), timeout + 5)
    except TimeoutError:
        raise ServerChangeFailed(
            "the document's server did not answer in time; try again"
        ) from None
    if not answer.get("ok"):
        raise ServerChangeFailed(answer.get("error") or "the document's server refused the change")
    applied = answer.get("applied")
    return AppliedChange(**applied) if applied else None


async def serve_requests(worker_id: str, registry: Registry) -> None:
    """Take requests on this worker's channel until cancelled (runs on its loop).

    Each request is applied on ``registry``, the worker's own.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    channel = worker_channel(worker_id)
    tasks: set[asyncio.Task[None]] = set()
    failures = 0
    while True:
        try:
            message = await layer.receive(channel)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - Redis away: try again shortly
            logger.warning("taking requests failed: %s", exc)
            failures += 1
            await asyncio.sleep(zk.CONNECTION.pause(failures))
            continue
        failures = 0
        if message.get("type") != REQUEST or not message.get("reply_to"):
            continue
        task = asyncio.get_running_loop().create_task(_answer(layer, message, registry))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


async def _answer(layer: Any, message: dict[str, Any], registry: Registry) -> None:
    answer: dict[str, Any]
    try:
        applied = await apply_edit(
            public_id=uuid.UUID(message["doc"]),
            edit=message["edit"],
            user_id=message.get("user_id"),
            user_name=message.get("user_name") or "",
            registry=registry,
            timeout=float(message.get("timeout") or 30),
        )
        answer = {"ok": True, "applied": asdict(applied) if applied else None}
    except (NotOwner, AuthorityClosed):
        answer = {"ok": False, "error": "the document just moved to another server; try again"}
    except DocumentMissing:
        answer = {"ok": False, "error": "the document no longer exists"}
    except (ServerChangeFailed, StoreError, InvalidEdit) as exc:
        answer = {"ok": False, "error": str(exc)}
    except Exception:
        logger.exception("applying a forwarded change to %s failed", message.get("doc"))
        answer = {"ok": False, "error": "the document's server failed; try again"}
    try:
        await layer.send(message["reply_to"], {"type": "routing.reply", **answer})
    except Exception as exc:  # noqa: BLE001 - the requester times out
        logger.warning("answering a forwarded change failed: %s", exc)
