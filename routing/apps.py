"""Routing app: the hash ring, ZooKeeper membership and ``runworker``."""
from django.apps import AppConfig


class RoutingConfig(AppConfig):
    """Configure the routing app."""

    name = "routing"
    verbose_name = "Routing"
