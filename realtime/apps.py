"""Realtime app: the OT core, the per-document authority and consumers."""

from django.apps import AppConfig
from django.core import checks

from realtime.content_policy import check_content_policy


class RealtimeConfig(AppConfig):
    """Configure the realtime app."""

    name = "realtime"
    verbose_name = "Realtime editing"

    def ready(self) -> None:
        """Register the embed policy's check."""
        checks.register(check_content_policy)
