"""Exceptions of the realtime app."""

from __future__ import annotations


class RealtimeError(Exception):
    """Base class of the realtime app's errors."""


class BadMessage(RealtimeError):
    """A client frame broke the wire protocol (error ``bad_message``)."""


class AuthorityClosed(RealtimeError):
    """The document's authority was unloaded or failed; attach to a new one."""


class NotOwner(RealtimeError):
    """This worker does not own the document (any more): send the socket on.

    Raised by a :class:`realtime.registry.DocumentGate` that refuses to let
    the document load here (in a cluster, routing's document lock).
    """
