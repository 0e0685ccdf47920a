"""The live-documents port, routed: apply an edit on the document's owner.

:Maintainer: the routing app
:Status: installed by the composition root (``collabdocs.apps``) with
    :func:`documents.live.install_live`; used by ``version_restore`` and
    the review app (decisions on suggestions, removing threads)

:class:`OwnerLiveDocuments` implements :class:`documents.live.LiveDocuments`.
An edit must go through the document's authority, which lives on the
document's owner:

* this process owns it (single node, or the owning worker itself): the
  edit is applied here (:func:`realtime.restore.apply_here`, on the
  worker's registry, or on a one-off registry outside a worker);
* another worker owns it: the request is forwarded to that worker over the
  channel layer (:func:`routing.forward.apply_on_owner`).

A process that is not a worker but has ``ZOOKEEPER_HOSTS`` (a command, the
shell, ``make run`` in front of a cluster) reads the ring from ZooKeeper
(:func:`routing.status.cluster_status`).

Failure modes: no worker on the ring, or ZooKeeper unreachable from a
process that is not a worker: :class:`documents.live.ServerChangeFailed`
with a message for people; the rest as :mod:`routing.forward` and
:mod:`realtime.restore` say.
"""

from __future__ import annotations

import uuid
from typing import Any

from documents.live import AppliedChange, ServerChangeFailed, check_edit
from realtime.restore import DEFAULT_TIMEOUT, apply_here
from routing import zk
from routing.forward import apply_on_owner
from routing.state import routing_state
from routing.status import cluster_status


def owner_elsewhere(public_id: uuid.UUID) -> str | None:
    """Return the id of the worker that owns the document if not this process.

    None: this process serves it (single node, or the owner itself).

    :raises ServerChangeFailed: no worker is on the ring.
    """
    ownership = routing_state().ownership
    if ownership.cluster:
        route = ownership.route(public_id)
        if route.local:
            return None
        if route.worker_id is None:
            raise ServerChangeFailed("no server is serving documents right now; try again")
        return route.worker_id
    if not zk.cluster_mode():
        return None
    status = cluster_status()
    if status.error or not status.workers:
        raise ServerChangeFailed(status.error or "no server is serving documents right now")
    return status.ring.owner(str(public_id))


class OwnerLiveDocuments:
    """Apply changes to live documents on their owner (see the module docstring)."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        #: How long one change may take, waits for storage included.
        self.timeout = timeout

    def apply_edit(
        self,
        *,
        public_id: uuid.UUID,
        edit: dict[str, Any],
        user_id: int | None,
        user_name: str,
    ) -> AppliedChange | None:
        """Apply ``edit`` (:mod:`documents.live`) with one change, on the owner.

        Block until stored; return the change, or None when there was
        nothing to do.

        :raises InvalidEdit: a malformed edit (before anything is sent).
        :raises ServerChangeFailed: see the module docstring.
        :raises documents.store.DocumentMissing: no such document.
        """
        check_edit(edit)
        owner = owner_elsewhere(public_id)
        if owner is not None:
            return apply_on_owner(
                owner_id=owner,
                public_id=public_id,
                edit=edit,
                user_id=user_id,
                user_name=user_name,
                timeout=self.timeout,
            )
        return apply_here(
            public_id=public_id,
            edit=edit,
            user_id=user_id,
            user_name=user_name,
            timeout=self.timeout,
        )
