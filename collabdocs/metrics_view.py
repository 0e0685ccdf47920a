"""``GET /metrics``: this worker's Prometheus metrics, for allowed networks only.

:Maintainer: the collabdocs app
:Status: scraped by Prometheus (``docs/deploy.md``); read by nobody else

The metric objects live in the lowest layer that counts them
(:mod:`documents.metrics`, :mod:`realtime.metrics`, :mod:`routing.metrics`);
this view serves them all, with prometheus-client's process metrics
(CPU, memory, open files), in the text exposition format. Every sample
carries ``worker="<worker id>"`` (``local`` outside a cluster worker), so
one Prometheus job can scrape every worker and graphs can split or sum by
worker.

Access: only clients whose address is in ``COLLABDOCS["METRICS_ALLOW"]``
(CIDRs; loopback by default). Any other gets a plain 404, as if there were
nothing here. A request that came through a proxy names its client in
``X-Forwarded-For``: every address listed there must be allowed too, so a
balancer on loopback does not make the public look local (a client can add
addresses to the header but not remove the balancer's). The front door
should not pass ``/metrics`` on at all; this is the second fence.

Cost: a scrape collects on the event loop, about a millisecond plus a
few microseconds per open document. No session, no authentication, no cache: the view never reads
``request.session`` or ``request.user``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import CollectorRegistry
from prometheus_client.samples import Sample

# Imported for their metrics: each module registers its collectors.
from documents import metrics as documents_metrics  # noqa: F401 - registers its metrics
from realtime import metrics as realtime_metrics  # noqa: F401 - registers its metrics
from routing import metrics as routing_metrics  # noqa: F401 - registers its metrics
from routing.readiness import readiness

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(allow: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for cidr in allow:
        try:
            networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"COLLABDOCS_METRICS_ALLOW: {cidr!r} is not a network (e.g. 10.0.0.0/8, ::1/128)"
            ) from None
    return tuple(networks)


def allowed_networks() -> tuple[Network, ...]:
    """Return the networks that may read ``/metrics`` (the setting, parsed once)."""
    return _networks(tuple(cidr for cidr in settings.COLLABDOCS["METRICS_ALLOW"] if cidr.strip()))


def _address_allowed(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def client_allowed(request: HttpRequest) -> bool:
    """Return whether the client (and every proxy hop it names) is allowed."""
    networks = allowed_networks()
    addresses = [request.META.get("REMOTE_ADDR") or ""]
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if forwarded:
        addresses.extend(forwarded.split(","))
    return all(_address_allowed(address, networks) for address in addresses)


class _WorkerLabelled(CollectorRegistry):
    """The process registry's metrics with ``worker`` added to every sample."""

    def __init__(self, worker: str) -> None:
        super().__init__(auto_describe=False)
        self.worker = worker

    def collect(self) -> Iterator[Metric]:
        for metric in REGISTRY.collect():
            labelled = Metric(metric.name, metric.documentation, metric.type, metric.unit)
            labelled.samples = [
                Sample(
                    sample.name,
                    {"worker": self.worker, **sample.labels},
                    sample.value,
                    sample.timestamp,
                    sample.exemplar,
                )
                for sample in metric.samples
            ]
            yield labelled


def exposition() -> bytes:
    """Return every metric of this process in the text format, worker-labelled."""
    return generate_latest(_WorkerLabelled(readiness().worker_id or "local"))


@require_GET
@never_cache
async def metrics(request: HttpRequest) -> HttpResponse:
    """Serve the metrics to an allowed client; 404 to anyone else.

    Async on purpose: the collectors read the registry of open documents,
    which the event loop changes, so they run on the loop (a few ms).
    """
    if not client_allowed(request):
        raise Http404
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
