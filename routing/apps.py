"""Routing app: the hash ring, ZooKeeper membership and ``runworker``."""

from django.apps import AppConfig
from django.core import checks

from routing.checks import check_settings


class RoutingConfig(AppConfig):
    """Configure the routing app."""

    name = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        """Register the scale-out settings' checks."""
        checks.register(check_settings)
