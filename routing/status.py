"""What the staff page shows: the live workers, the ring, who owns a document.

Selectors only (reads). The workers come from ZooKeeper: each worker's
znode holds its URL and start time, and the stats it publishes every
``COLLABDOCS["WORKER_STATS_SECONDS"]`` (open documents with their socket
counts, the people on each, and a summary of its metrics: see
:meth:`routing.worker.Worker.stats`). In a ``runworker``
process the worker's own ZooKeeper client is used (:mod:`routing.state`);
elsewhere (``runserver`` with ``ZOOKEEPER_HOSTS``) a short-lived one. Titles are given only for
documents the staff member may view (:func:`document_titles`).

Blocking: call from synchronous code (views run in threads).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q
from guardian.shortcuts import get_objects_for_user
from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, NoNodeError

from documents.models import Document
from documents.roles import EDIT, VIEW
from routing import zk
from routing.exceptions import ZooKeeperUnavailable
from routing.membership import parse_worker_data
from routing.ownership import document_key
from routing.paths import lock_path, worker_path, workers_path
from routing.ring import HashRing
from routing.state import routing_state

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerStatus:
    """One live worker as its znode describes it."""

    worker_id: str
    url: str
    started: str = ""
    host: str = ""
    pid: int | None = None
    serving: bool | None = None
    documents: int | None = None
    sockets: int | None = None
    docs: dict[str, int] = field(default_factory=dict)
    #: Distinct people per open document (``docs`` counts sockets).
    people: dict[str, int] = field(default_factory=dict)
    #: The worker's metrics at a glance (routing.metrics.Summary); empty
    #: for a worker that does not publish them.
    metrics: dict[str, float | int | str | None] = field(default_factory=dict)
    updated: str = ""
    share: float = 0.0
    is_self: bool = False


@dataclass(frozen=True)
class ClusterStatus:
    """The cluster as ZooKeeper sees it right now."""

    cluster: bool
    hosts: str = ""
    root: str = ""
    self_id: str | None = None
    workers: list[WorkerStatus] = field(default_factory=list)
    error: str = ""

    @property
    def ring(self) -> HashRing:
        """Return the ring over the live workers."""
        return HashRing(sorted(w.worker_id for w in self.workers))


@dataclass(frozen=True)
class DocumentRoute:
    """Where one document lives."""

    public_id: uuid.UUID
    owner_id: str | None
    owner_url: str | None
    open_on: list[tuple[str, int]]
    lock_holders: list[str]


@contextmanager
def _client() -> Iterator[KazooClient]:
    shared = routing_state().client
    if shared is not None:
        yield shared
        return
    client = zk.start_client(connect_timeout=min(3.0, settings.COLLABDOCS["ZK_CONNECT_TIMEOUT"]))
    try:
        yield client
    finally:
        zk.stop_client(client)


def cluster_status() -> ClusterStatus:
    """Return the live workers with their stats and their share of the ring."""
    if not zk.cluster_mode():
        return ClusterStatus(cluster=False)
    ownership = routing_state().ownership
    base = dict(
        cluster=True,
        hosts=settings.ZOOKEEPER_HOSTS,
        root=zk.zk_root(),
        self_id=ownership.self_id if ownership.cluster else None,
    )
    try:
        with _client() as client:
            workers = _read_workers(client)
    except (ZooKeeperUnavailable, KazooException) as exc:
        return ClusterStatus(**base, error=f"ZooKeeper: {exc}")
    shares = HashRing(sorted(w["worker_id"] for w in workers)).shares()
    statuses = [
        WorkerStatus(
            **w, share=shares.get(w["worker_id"], 0.0), is_self=w["worker_id"] == base["self_id"]
        )
        for w in workers
    ]
    return ClusterStatus(**base, workers=statuses)


def _read_workers(client: KazooClient) -> list[dict]:
    root = zk.zk_root()
    try:
        children = client.get_children(workers_path(root))
    except NoNodeError:
        return []
    workers = []
    for child in sorted(children):
        try:
            raw, _ = client.get(worker_path(root, child))
        except NoNodeError:
            continue
        data = parse_worker_data(raw)
        docs = data.get("docs")
        if not isinstance(docs, dict):
            docs = {}
        people = data.get("people")
        if not isinstance(people, dict):
            people = {}
        metrics = data.get("metrics")
        if not isinstance(metrics, dict):
            metrics = {}
        workers.append(
            {
                "worker_id": child,
                "url": str(data.get("url", "")),
                "started": str(data.get("started", "")),
                "host": str(data.get("host", "")),
                "pid": data.get("pid") if isinstance(data.get("pid"), int) else None,
                "serving": data.get("serving") if isinstance(data.get("serving"), bool) else None,
                "documents": data.get("documents")
                if isinstance(data.get("documents"), int)
                else None,
                "sockets": data.get("sockets") if isinstance(data.get("sockets"), int) else None,
                "docs": {str(k): int(v) for k, v in docs.items() if isinstance(v, int)},
                "people": {str(k): int(v) for k, v in people.items() if isinstance(v, int)},
                "metrics": {
                    str(k): v
                    for k, v in metrics.items()
                    if v is None or isinstance(v, int | float | str)
                },
                "updated": str(data.get("updated", "")),
            }
        )
    return workers


def document_route(status: ClusterStatus, public_id: uuid.UUID) -> DocumentRoute:
    """Return who owns ``public_id`` on ``status``' ring, who has it open, who holds its lock."""
    key = document_key(public_id)
    open_on = [(w.worker_id, w.docs[key]) for w in status.workers if key in w.docs]
    if not status.cluster:
        return DocumentRoute(public_id, None, None, open_on, [])
    ring = status.ring
    owner = ring.owner(key) if len(ring) else None
    urls = {w.worker_id: w.url for w in status.workers}
    holders: list[str] = []
    try:
        with _client() as client:
            holders = _lock_holders(client, public_id)
    except (ZooKeeperUnavailable, KazooException) as exc:
        logger.warning("reading the lock of %s: %s", public_id, exc)
    return DocumentRoute(public_id, owner, urls.get(owner) if owner else None, open_on, holders)


def document_titles(
    *, user: AbstractBaseUser | AnonymousUser, public_ids: Iterable[str]
) -> dict[str, str]:
    """Return ``{public_id: title}`` of those documents ``user`` may view.

    A document the user may not view (or that does not exist) is left out:
    being staff gives no right to read titles. Holding the global
    ``documents.view_document`` permission (superusers do) shows them all;
    otherwise the user's own documents and those shared with them or their
    groups, outside the trash, as ``documents.selectors`` decides for pages.
    """
    ids = set()
    for public_id in public_ids:
        try:
            ids.add(uuid.UUID(str(public_id)))
        except ValueError:
            continue
    if not ids or not user.is_authenticated or not user.is_active:
        return {}
    candidates = Document.objects.filter(public_id__in=ids)
    if not user.has_perm(f"documents.{VIEW}"):
        shared = get_objects_for_user(
            user,
            [f"documents.{VIEW}", f"documents.{EDIT}"],
            klass=candidates.filter(trashed_at__isnull=True),
            any_perm=True,
            with_superuser=False,
            accept_global_perms=False,
        )
        candidates = candidates.filter(Q(owner=user) | Q(pk__in=shared.values("pk")))
    return {
        str(public_id): title for public_id, title in candidates.values_list("public_id", "title")
    }


def _lock_holders(client: KazooClient, public_id: uuid.UUID) -> list[str]:
    """Return the identifiers of the lock's contenders, holder first.

    Read without kazoo's ``Lock.contenders``, which would create the lock
    directory of every document looked up.
    """
    path = lock_path(zk.zk_root(), public_id)
    try:
        nodes = client.get_children(path)
    except NoNodeError:
        return []
    holders = []
    for node in sorted(nodes, key=lambda name: name[-10:]):  # the sequence number
        try:
            raw, _ = client.get(f"{path}/{node}")
        except NoNodeError:
            continue
        holders.append((raw or b"").decode("utf-8", "replace"))
    return holders
