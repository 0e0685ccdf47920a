"""The one refusal an import can end in (docs/office.md "Import")."""

from __future__ import annotations

__all__ = ["CODES", "ImportRefused"]

#: Refusal codes and the HTTP status the endpoints answer them with.
CODES: dict[str, int] = {
    "unsupported_format": 415,
    "too_large": 413,
    "bad_file": 400,
    "zip_bomb": 413,
    "macros": 400,
    "too_long": 413,
    "image_rejected": 400,
}


class ImportRefused(Exception):
    """A file that cannot be imported: ``code`` (one of :data:`CODES`) and a sentence."""

    def __init__(self, code: str, message: str) -> None:
        if code not in CODES:
            raise ValueError(f"unknown import refusal code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        """Return the HTTP status of this refusal."""
        return CODES[self.code]
