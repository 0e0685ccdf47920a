"""System checks of the scale-out settings."""

from __future__ import annotations

from routing.checks import check_settings


def ids(settings) -> list[str]:
    return [message.id for message in check_settings()]


def test_defaults_pass(settings):
    settings.ZOOKEEPER_HOSTS = ""
    settings.WORKER_URL = ""
    assert ids(settings) == []


def test_bad_root_and_worker_url_are_errors(settings):
    settings.ZOOKEEPER_ROOT = "collabdocs/"
    settings.WORKER_URL = "127.0.0.1:8001"
    assert ids(settings) == ["routing.E001", "routing.E002"]


def test_a_cluster_without_redis_is_warned_about(settings):
    settings.ZOOKEEPER_HOSTS = "127.0.0.1:2181"
    settings.REDIS_URL = ""
    assert ids(settings) == ["routing.W001"]
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert ids(settings) == []
