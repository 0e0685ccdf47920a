"""A dedicated thread pool for the authorities' storage calls.

Storage calls block (the ORM is synchronous), so they run here, never on the
event loop. The pool is separate from asgiref's default executor and from
``thread_sensitive`` code: different documents commit in parallel, and a slow
page request never holds up an op. Each thread keeps its database
connection open between calls (commits are frequent); :meth:`shutdown`
closes them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from django.db import InterfaceError, OperationalError, connection

from documents import logcontext
from documents.store import DocumentStore

T = TypeVar("T")


def with_connection_retry(fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Call ``fn(**kwargs)`` (ORM reads) on this thread's kept connection.

    A kept connection may have died while idle (a database restart): the
    call is then made once more on a fresh one. Use it for reads only.
    """
    reused = connection.connection is not None
    try:
        return fn(**kwargs)
    except (OperationalError, InterfaceError):
        connection.close()
        if not reused:
            raise
    return fn(**kwargs)


class StoreRunner:
    """Run a :class:`DocumentStore`'s methods on ``max_workers`` threads."""

    def __init__(self, store: DocumentStore, *, max_workers: int = 8) -> None:
        self.store = store
        self.max_workers = max_workers
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="docstore")

    def run(self, fn: Callable[..., T], /, **kwargs: Any) -> asyncio.Future[T]:
        """Start ``fn(**kwargs)`` on the pool and return its future."""
        loop = asyncio.get_running_loop()
        # Executors do not carry contextvars: log lines on the pool's
        # threads name the caller's document and user this way.
        return loop.run_in_executor(self._pool, logcontext.carry(partial(fn, **kwargs)))

    def read(self, fn: Callable[..., T], /, **kwargs: Any) -> asyncio.Future[T]:
        """Run an ORM read ``fn(**kwargs)`` on the pool (kept connections).

        Opening a PostgreSQL connection per call costs more than the
        queries of a permission check, so sockets check access here rather
        than through ``database_sync_to_async`` (which closes per
        ``CONN_MAX_AGE``).
        """
        return self.run(partial(with_connection_retry, fn), **kwargs)

    def shutdown(self) -> None:
        """Close every thread's database connection and stop the pool.

        A task is given to each possible thread at once; each waits at a
        barrier until all have started, so every thread of the pool runs
        exactly one and closes its own connection.
        """
        barrier = threading.Barrier(self.max_workers)

        def close_mine() -> None:
            # A broken barrier (a thread slow to start) still closes this one.
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=10)
            self.store.close()

        futures = [self._pool.submit(close_mine) for _ in range(self.max_workers)]
        for future in futures:
            future.result(timeout=30)
        self._pool.shutdown(wait=True)
