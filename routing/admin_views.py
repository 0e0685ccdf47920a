"""The staff page of the cluster: ``/admin/cluster/`` (admin login, staff only).

Shows the live workers from ZooKeeper with their open documents (sockets
and people on each), each one's share of the ring, its metrics at a glance
(phase, ops per second, refusals, p95 commit, ack and broadcast latency
over the last stats period, hand-overs, fencing, PostgreSQL and Redis
errors, the ZooKeeper session) and, for a document id typed in, which
worker owns it, which has it open and who holds its lock.

The metrics come from the summary each worker publishes in its znode
every ``WORKER_STATS_SECONDS`` (:class:`routing.metrics.Summary`), not from
scraping every worker's ``/metrics``: the page is one ZooKeeper read
whichever worker serves it, needs no worker reachable from another over
HTTP nor allowed to read another's metrics, and still shows a worker that
stopped answering HTTP (with the time of its last report). The figures are
up to one stats period old; Prometheus keeps the history.

Titles are private: a staff member sees the title of a document only when
they may view it (their own, shared with them or their groups, or every
document with the global ``documents.view_document`` permission, which
superusers hold); any other document is shown by its id alone, on the
worker lists and in a lookup alike.
"""

from __future__ import annotations

import uuid

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from routing.status import cluster_status, document_route, document_titles

#: Open documents listed per worker.
DOCS_PER_WORKER = 50
#: What stands for a title the staff member may not read (or a deleted one).
HIDDEN = "–"


def cluster_view(request: HttpRequest) -> TemplateResponse:
    """Render the cluster's status (wrapped by ``admin.site.admin_view``)."""
    status = cluster_status()
    query = request.GET.get("doc", "").strip()
    lookup = None
    lookup_error = ""
    if query:
        try:
            public_id = uuid.UUID(query)
        except ValueError:
            lookup_error = f"{query!r} is not a document id (a UUID)."
        else:
            lookup = document_route(status, public_id)
    wanted = {key for w in status.workers for key in list(w.docs)[:DOCS_PER_WORKER]}
    if lookup is not None:
        wanted.add(str(lookup.public_id))
    titles = document_titles(user=request.user, public_ids=wanted)
    workers = [
        {
            "status": w,
            "share_percent": round(100 * w.share, 1),
            "docs": [
                (doc, sockets, w.people.get(doc), titles.get(doc, HIDDEN))
                for doc, sockets in list(w.docs.items())[:DOCS_PER_WORKER]
            ],
            "metrics": w.metrics,
            "more": max(0, (w.documents or len(w.docs)) - DOCS_PER_WORKER),
        }
        for w in status.workers
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Cluster",
        "status": status,
        "workers": workers,
        "query": query,
        "lookup": lookup,
        "lookup_title": titles.get(str(lookup.public_id), HIDDEN) if lookup else None,
        "lookup_error": lookup_error,
    }
    return TemplateResponse(request, "admin/routing/cluster.html", context)
