"""Routing app: the hash ring, ZooKeeper membership and ``runworker``."""
from django.apps import AppConfig


class RoutingConfig(AppConfig):
    """Configure the routing app."""

    name = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        """Register the scale-out settings' checks."""
        from django.core import checks

        from routing.checks import check_settings

        checks.register(check_settings)
