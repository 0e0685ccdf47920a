"""Moved to :mod:`collabdocs.devediting`; this path goes once its importers switch (H5)."""

from collabdocs.devediting import (
    Editor,
    all_editing_again,
    converge_and_check,
    get_json,
    get_text,
    wait_until,
)

__all__ = [
    "Editor",
    "all_editing_again",
    "converge_and_check",
    "get_json",
    "get_text",
    "wait_until",
]
