"""The composition root: ``manage.py runworker`` is ours, and the ports are wired.

Failure modes covered: an app order in which Channels' ``runworker``
shadows the product's worker (the system check ``collabdocs.E001`` refuses
it), and a process whose live-documents port was never installed (a
restore would fail with ``ImproperlyConfigured``).
"""

from __future__ import annotations

from django.core.management import get_commands
from django.test import override_settings

from collabdocs.checks import check_runworker
from documents.live import live_documents
from routing.live import OwnerLiveDocuments


def test_runworker_is_the_routing_apps_command() -> None:
    assert get_commands()["runworker"] == "routing"
    assert check_runworker() == []


def test_channels_listed_first_would_shadow_it_and_the_check_says_so() -> None:
    with override_settings(INSTALLED_APPS=["channels", "routing"]):
        assert get_commands()["runworker"] == "channels"
        errors = check_runworker()
    assert [error.id for error in errors] == ["collabdocs.E001"]
    assert 'List "routing" before "channels"' in (errors[0].hint or "")
    assert get_commands()["runworker"] == "routing"  # the real order again


def test_the_composition_root_installs_the_routed_live_documents() -> None:
    assert isinstance(live_documents(), OwnerLiveDocuments)
