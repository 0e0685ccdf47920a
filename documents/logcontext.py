"""The log context: which document, person and worker a log line is about.

:Maintainer: the logs (``collabdocs.logs`` formats what is bound here)
:Status: bound by the socket consumer (document and user, for the socket's
    life), the authority (its document, no user, on the tasks it spawns)
    and the worker (its id, once, at start-up)

Every log line written while serving a socket should say which document and
which person it concerns, without each call site passing them: the socket
consumer binds them once, with :func:`bind`, and every line logged from its
task afterwards carries them, whoever logs it (our code, Django, Channels).

Context variables, not thread-locals, because one event loop serves every
socket: each daphne connection runs in a task of its own, and a task runs in
a copy of the context it was created in, so a value bound in a consumer's
``connect`` stays bound for that consumer's whole life and is never seen by
another socket's task. Two consequences callers must mind:

* A task spawned from a consumer inherits that consumer's user. The
  authority serves every socket of its document, so it spawns its own tasks
  in :func:`detached` (its document bound, no user), never in the context
  of whichever socket happened to open it.
* ``loop.run_in_executor`` does not carry the context into the thread
  (``asgiref.sync_to_async`` does): wrap the callable with :func:`carry` so
  that lines logged on a storage thread name their document too.

The worker id is process-wide (one ``runworker`` is one worker), so it is a
plain module value set once with :func:`set_worker`, readable from every
thread, Twisted's included.

Standard library only, so the lowest layer that logs about a document can
use it, and ``collabdocs.settings`` can load the formatter that reads it.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final, TypeVar

T = TypeVar("T")


class _Unset:
    """The "leave it as it is" default of :func:`bind` (``None`` unbinds)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()

_doc: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "collabdocs_log_doc", default=None
)
_user: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "collabdocs_log_user", default=None
)
_worker: str | None = None


def _doc_text(doc: object) -> str | None:
    if doc is None:
        return None
    return str(doc) if isinstance(doc, uuid.UUID | str) else repr(doc)


def _user_id(user: object) -> int | None:
    if user is None:
        return None
    if isinstance(user, bool) or not isinstance(user, int):
        raise TypeError(f"bind(user=...) takes a user's primary key (an int), not {user!r}")
    return user


def bind(*, doc: object = UNSET, user: object = UNSET) -> None:
    """Bind the document (public id) and the user (primary key) to this context.

    Arguments left out keep their value; ``None`` unbinds. The binding lasts
    for the rest of the current task (or thread) and is inherited by tasks
    it creates afterwards.
    """
    if not isinstance(doc, _Unset):
        _doc.set(_doc_text(doc))
    if not isinstance(user, _Unset):
        _user.set(_user_id(user))


@contextmanager
def bound(*, doc: object = UNSET, user: object = UNSET) -> Iterator[None]:
    """Bind like :func:`bind` for the ``with`` block only, then restore."""
    tokens: list[tuple[contextvars.ContextVar[Any], contextvars.Token[Any]]] = []
    if not isinstance(doc, _Unset):
        tokens.append((_doc, _doc.set(_doc_text(doc))))
    if not isinstance(user, _Unset):
        tokens.append((_user, _user.set(_user_id(user))))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def detached(*, doc: object) -> contextvars.Context:
    """Return a copy of this context bound to ``doc`` with no user.

    For ``loop.create_task(coro, context=detached(doc=...))``: a document's
    own tasks (the writer, the keeper) must not log in the name of the
    person whose socket happened to start them.
    """
    context = contextvars.copy_context()
    context.run(bind, doc=doc, user=None)
    return context


def carry(fn: Callable[..., T]) -> Callable[..., T]:
    """Return ``fn`` bound to a copy of this context, for another thread.

    ``loop.run_in_executor(pool, carry(partial(fn, ...)))`` logs on the pool's
    thread with the caller's document and user.
    """
    context = contextvars.copy_context()

    def run(*args: Any, **kwargs: Any) -> T:
        return context.run(fn, *args, **kwargs)

    return run


def set_worker(worker_id: str | None) -> None:
    """Name this process's worker (once, at start-up); ``None`` forgets it."""
    global _worker
    _worker = worker_id


def current() -> dict[str, str | int]:
    """Return what is bound here: ``doc``, ``user``, ``worker``, each only if set."""
    fields: dict[str, str | int] = {}
    doc = _doc.get()
    if doc is not None:
        fields["doc"] = doc
    user = _user.get()
    if user is not None:
        fields["user"] = user
    if _worker is not None:
        fields["worker"] = _worker
    return fields
