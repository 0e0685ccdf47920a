"""The composition root: wire the process once every app is ready.

CollabDocs' layers import only downwards (``realtime.ot`` -> ``documents``
-> ``realtime`` -> ``routing`` -> ``collabdocs``). Where a lower layer
needs something from a higher one, it names a port and this app, listed
last in ``INSTALLED_APPS``, installs the implementation at start-up:

* ``documents.live.LiveDocuments`` (restoring a version, live) is
  :class:`routing.live.OwnerLiveDocuments`: applied on the document's
  owner, here or forwarded.

What the worker composes itself (the registry with its gate, lease check
and placement; the routing state the views read) is installed by
``runworker`` when it starts (:class:`routing.worker.Worker`): it exists
only in a worker, after ZooKeeper answered.
"""

from __future__ import annotations

from django.apps import AppConfig
from django.core import checks

from collabdocs.checks import check_runworker
from documents.live import install_live


class CollabdocsConfig(AppConfig):
    """Wire the process (see the module docstring)."""

    name = "collabdocs"
    verbose_name = "CollabDocs"

    def ready(self) -> None:
        """Register the composition's checks; install the ports' implementations."""
        # Imported here, not at the top: routing.live imports models, and the
        # app registry is ready only now.
        from routing.live import OwnerLiveDocuments

        checks.register(check_runworker)
        install_live(OwnerLiveDocuments())
