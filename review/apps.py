"""The review app."""

from django.apps import AppConfig


class ReviewConfig(AppConfig):
    """Comment threads and suggestion decisions on documents."""

    name = "review"
