"""System checks of the scale-out settings (``manage.py check``, and every runworker)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from routing.paths import BadAddress, check_root, normalize_base_url


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Refuse a bad ZooKeeper root or worker URL; warn about a cluster without Redis."""
    messages: list[checks.CheckMessage] = []
    try:
        check_root(settings.ZOOKEEPER_ROOT)
    except BadAddress as exc:
        messages.append(
            checks.Error(str(exc), hint="Set ZOOKEEPER_ROOT=/collabdocs", id="routing.E001")
        )
    if settings.WORKER_URL:
        try:
            normalize_base_url(settings.WORKER_URL)
        except BadAddress as exc:
            messages.append(
                checks.Error(
                    f"WORKER_URL: {exc}",
                    hint="e.g. WORKER_URL=http://127.0.0.1:8001",
                    id="routing.E002",
                )
            )
    if settings.ZOOKEEPER_HOSTS and not settings.REDIS_URL:
        messages.append(
            checks.Warning(
                "ZOOKEEPER_HOSTS is set but REDIS_URL is not: with the in-memory channel "
                "layer, sharing changes and deletions reach only the sockets of the worker "
                "that made them.",
                hint="Give every worker the same REDIS_URL.",
                id="routing.W001",
            )
        )
    return messages
