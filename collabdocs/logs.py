"""Log lines an operator can ship and search: one line per event.

:Maintainer: the composition root (settings' ``LOGGING`` is
    :func:`logging_config`)
:Status: text by default; JSON lines when ``COLLABDOCS_LOG_FORMAT=json``

Every line goes to stderr (systemd's journal, a container's log) through one
handler, in one of two formats:

* ``text`` (the default, for a person at a terminal)::

      2026-12-05 21:55:42,473 INFO realtime.authority: message [doc=… user=7 worker=…]

* ``json``: one JSON object per line, ``time`` (UTC, ISO 8601, ms), ``level``,
  ``logger``, ``message``, and where they apply ``doc`` (public id),
  ``user`` (primary key), ``worker`` (ring id), ``method``/``path``/``status``
  of an HTTP request Django logs, ``went_away``, and ``exc`` (the
  traceback, as one JSON string: still one line).

Document, user and worker come from :mod:`documents.logcontext`, bound by
the socket consumer, the authority and the worker; a call site may also pass
them as ``extra={"doc": ..., "user": ...}``, which wins.

A client that went away is not an error
---------------------------------------

Browsers close tabs, laptops sleep, proxies reset idle connections. None of
that is the server's fault, yet an exception such as ``ConnectionResetError``
reaching a logger with its traceback reads like a bug and buries real ones.
:class:`WentAwayFilter`, on the handler so that it sees every logger's
records (daphne's "Exception inside application", asyncio's "Task exception
was never retrieved", Django's request errors, ours), turns a record whose
exception is a client going away into one line at INFO at most, with the
exception's name and no traceback. Which exceptions count: broken pipes,
connection resets and aborts, task cancellation, Django's
``RequestAborted``, Twisted's ``ConnectionDone``/``ConnectionLost`` and
autobahn's ``Disconnected``. Connections to our own servers never surface
as these: psycopg and redis-py wrap them in their own errors, which keep
their tracebacks.

Where such records come from today (measured against a real ``runworker``,
a raw socket sending half a frame then a TCP reset, FIN without a close
handshake, a reset during the handshake, in mid-response and during a
POST body): daphne itself drops replies to a connection that has gone
(``Server.handle_reply``), its Twisted log is discarded below verbosity 2,
and the socket's own sends fail quietly (``realtime.subscriber``: one debug
line). The filter is the backstop for the paths that still raise: an
application task that ends with a disconnect exception, a task whose
exception nobody retrieved, a view cancelled by a disconnect.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import empty

from documents import logcontext

#: ``COLLABDOCS_LOG_FORMAT`` values.
FORMATS = ("text", "json")

#: Exceptions that mean the client went away, as ``module.QualName`` so that
#: matching them imports neither Twisted nor autobahn into every command.
WENT_AWAY_NAMES = frozenset(
    {
        "builtins.BrokenPipeError",
        "builtins.ConnectionResetError",
        "builtins.ConnectionAbortedError",
        "asyncio.exceptions.CancelledError",
        "concurrent.futures._base.CancelledError",
        "django.core.exceptions.RequestAborted",
        "twisted.internet.error.ConnectionDone",
        "twisted.internet.error.ConnectionLost",
        "autobahn.exception.Disconnected",
    }
)

#: Record attributes that name the context (``extra=`` or the filter).
CONTEXT_FIELDS = ("doc", "user", "worker")


def went_away(exc: BaseException | None) -> bool:
    """Return whether ``exc`` means the peer went away (see the module docstring)."""
    if exc is None:
        return False
    return any(
        f"{cls.__module__}.{cls.__qualname__}" in WENT_AWAY_NAMES for cls in type(exc).__mro__
    )


def _exception(record: logging.LogRecord) -> BaseException | None:
    if record.exc_info and record.exc_info is not True:
        return record.exc_info[1]
    return None


class WentAwayFilter(logging.Filter):
    """Make a record about a client going away one quiet line (no traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = _exception(record)
        if not went_away(exc):
            return True
        assert exc is not None
        detail = str(exc)
        reason = type(exc).__name__ + (f": {detail}" if detail else "")
        record.msg = f"{record.getMessage()} [client went away: {reason}]"
        record.args = None
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        if record.levelno > logging.INFO:
            record.levelno = logging.INFO
            record.levelname = logging.getLevelName(logging.INFO)
        record.went_away = True
        return True


def record_context(record: logging.LogRecord) -> dict[str, Any]:
    """Return the record's document, user and worker (``extra=`` over the bound ones)."""
    fields: dict[str, Any] = dict(logcontext.current())
    for name in CONTEXT_FIELDS:
        value = record.__dict__.get(name)
        if value is not None:
            fields[name] = value if isinstance(value, int | str) else str(value)
    return fields


def _request_fields(record: logging.LogRecord) -> dict[str, Any]:
    """Return what Django's request loggers attach: method, path, status, user.

    The user is read only if the request already loaded it: a formatter
    must not query the database (nor may it, on the event loop).
    """
    fields: dict[str, Any] = {}
    request = record.__dict__.get("request")
    method = getattr(request, "method", None)
    path = getattr(request, "path", None)
    if isinstance(method, str) and isinstance(path, str):
        fields["method"], fields["path"] = method, path
        lazy_user = getattr(request, "__dict__", {}).get("user")
        user = getattr(lazy_user, "_wrapped", lazy_user)
        if user is not None and user is not empty and getattr(user, "is_authenticated", False):
            pk = getattr(user, "pk", None)
            if isinstance(pk, int):
                fields["user"] = pk
    status = record.__dict__.get("status_code")
    if isinstance(status, int):
        fields["status"] = status
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line (see the module docstring for the fields)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_request_fields(record))
        entry.update(record_context(record))
        if record.__dict__.get("went_away"):
            entry["went_away"] = True
        if record.exc_info:
            entry["exc"] = record.exc_text or self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The plain format, with the document, user and worker appended when bound."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        line = super().formatMessage(record)
        fields = record_context(record)
        if not fields:
            return line
        return line + " [" + " ".join(f"{key}={value}" for key, value in fields.items()) + "]"


def console_handler() -> logging.Handler:
    """Return the stderr handler, with Python's warnings routed through logging.

    A warning the :mod:`warnings` module prints itself is raw text on stderr
    (a location line, then the source line); through the ``py.warnings``
    logger it is one line in this format like any other, JSON included.
    """
    logging.captureWarnings(True)
    return logging.StreamHandler()


def logging_config(*, fmt: str, level: str) -> dict[str, Any]:
    """Return the ``LOGGING`` dict: one stderr handler, ``fmt`` lines, from ``level`` up.

    :raises ImproperlyConfigured: ``fmt`` is not one of :data:`FORMATS`.
    """
    fmt = fmt.strip().lower()
    if fmt not in FORMATS:
        raise ImproperlyConfigured(
            f"COLLABDOCS_LOG_FORMAT={fmt!r} is not one of {', '.join(FORMATS)}."
        )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"went_away": {"()": "collabdocs.logs.WentAwayFilter"}},
        "formatters": {
            "text": {"()": "collabdocs.logs.TextFormatter"},
            "json": {"()": "collabdocs.logs.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "()": "collabdocs.logs.console_handler",
                "formatter": fmt,
                "filters": ["went_away"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's default config gives "django" a handler of its own
            # (plain text, when DEBUG): through the root only, so that every
            # line has this format and is written once.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "django.channels.server": {"level": "WARNING"},
        },
    }
