"""Realtime app: the OT core, the per-document authority and consumers."""
from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """Configure the realtime app."""

    name = "realtime"
    verbose_name = "Realtime editing"
