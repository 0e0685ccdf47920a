"""System checks of the composition (``manage.py check``, and every ``runworker``)."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.management import get_commands

#: The app whose ``runworker`` is the product's worker.
RUNWORKER_APP = "routing"


def check_runworker(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Refuse an app order in which another app's ``runworker`` wins.

    Channels ships a ``runworker`` too; Django keeps the copy of the app
    listed earliest in ``INSTALLED_APPS`` (``get_commands``), so "routing"
    must come before "channels".
    """
    owner = get_commands().get("runworker")
    if owner == RUNWORKER_APP:
        return []
    return [
        checks.Error(
            f"manage.py runworker is {owner!r}'s command, not the CollabDocs worker "
            f"({RUNWORKER_APP!r}'s).",
            hint=f'List "{RUNWORKER_APP}" before "channels" in INSTALLED_APPS.',
            id="collabdocs.E001",
        )
    ]
