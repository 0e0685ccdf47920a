"""JSON that reads back whatever was once stored, however deeply nested.

Before the content schema (issue 9) the server accepted embed values nested
hundreds of levels deep and stored them. Python's ``json`` counts each level
against the interpreter's recursion limit (1,000 by default), so a value
stored from a shallow stack can fail to decode or encode from a deeper one
(a view under Django's middleware): RecursionError, and the page, export,
naming a version and restoring it all answered 500.

:func:`call_deep` runs a function and, only if it raises RecursionError,
runs it again once in a fresh thread with a large stack and a raised (but
bounded) recursion limit. Everything stored was encoded under the default
limit, so :data:`DEEP_LIMIT` leaves ample room; nothing deeper can be stored
any more (``parse_change`` refuses nested values). The JSON encoder and
decoder classes here are what the models' JSON fields use.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["DEEP_LIMIT", "DeepJSONDecoder", "DeepJSONEncoder", "call_deep"]

T = TypeVar("T")

#: The recursion limit of a retry: ten times the default.
DEEP_LIMIT = 10_000
#: The retry thread's stack: a level of C recursion in ``json`` takes a few
#: hundred bytes, so this holds DEEP_LIMIT levels many times over (only the
#: pages touched are ever committed).
_STACK_BYTES = 256 * 1024 * 1024
# The recursion limit is process-wide: one retry at a time sets and restores it.
_retry_lock = threading.Lock()


def call_deep(fn: Callable[..., T], *args: Any) -> T:
    """Return ``fn(*args)``, retrying a RecursionError with room to recurse.

    Whatever ``fn`` raises on the retry (RecursionError included, for
    values deeper than :data:`DEEP_LIMIT`) is raised here.
    """
    try:
        return fn(*args)
    except RecursionError:
        pass
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            box["error"] = exc

    with _retry_lock:
        previous_stack = threading.stack_size(_STACK_BYTES)
        try:
            thread = threading.Thread(target=run, name="collabdocs-deep-json", daemon=True)
        finally:
            threading.stack_size(previous_stack)
        previous_limit = sys.getrecursionlimit()
        # Raised before start: a new thread takes the limit when it starts.
        sys.setrecursionlimit(max(previous_limit, DEEP_LIMIT))
        try:
            thread.start()
            thread.join()
        finally:
            sys.setrecursionlimit(previous_limit)
    if "error" in box:
        raise box["error"]
    return box["result"]


class DeepJSONDecoder(json.JSONDecoder):
    """A JSON decoder that retries deeply nested text (:func:`call_deep`)."""

    def decode(self, s: str, *args: Any, **kwargs: Any) -> Any:
        """Return the Python value of ``s``."""
        return call_deep(super().decode, s, *args)


class DeepJSONEncoder(json.JSONEncoder):
    """A JSON encoder that retries deeply nested values (:func:`call_deep`)."""

    def encode(self, o: Any) -> str:
        """Return the JSON text of ``o``."""
        return call_deep(super().encode, o)
