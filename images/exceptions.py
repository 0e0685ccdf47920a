"""Refusals of the images app."""

from __future__ import annotations


class ImageRejected(Exception):
    """An image was refused; ``code`` is for programs, ``message`` for people.

    Codes: ``not_an_image``, ``unsupported_type``, ``too_large``,
    ``too_many_pixels``, ``quota_exceeded``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
