"""Changes the server makes itself (edits), through the authority.

A restore, a decision on suggestions or the removal of a thread's anchors
must reach everyone connected live and be undoable like any edit, so it is
not written to the database directly: it becomes an op submitted to the
document's authority with :meth:`~realtime.authority.Authority.submit_change`
(no socket: the answer is returned; trusted: no review policy). The
authority transforms it over anything in flight, stores it and broadcasts
it; the edit is then one revision in the log, authored by the person who
asked for it.

The edit (:mod:`documents.live`) is turned into its op from the content the
authority holds:

* ``content`` (a restore): the diff from the current content to the
  target (:func:`restore_change`), computed off the loop; with the
  target's ``authorship`` runs in the edit, the text it puts back keeps its
  authors (the op's attribution, :func:`realtime.ot.authorship.inserted_runs`);
* ``decide`` and ``uncomment``: :func:`realtime.edits.edit_change`, computed
  on the loop (it is one pass over the runs) from the committed content at
  ``head``;
* ``revert``: the inverse of a stored change by the same user
  (:mod:`realtime.revert`), based on that change's revision.

Either way the op is based on the revision of the content it was computed
from, so ops accepted meanwhile (pending or committed since) are
transformed under it as under a person's op: text typed concurrently into
a suggestion being accepted stays, still marked, for the next decision.

Failure modes:

* ``unavailable`` or ``rate_limited`` (storage down, the lease not
  confirmed): resent with the same op id and a backoff, as clients do,
  until ``timeout``; then :class:`~documents.live.ServerChangeFailed`.
* ``stale`` (the base revision fell out of the window while waiting):
  diffed again from the current content with a new op id.
* Any other refusal (the version is larger than the size limit...):
  :class:`~documents.live.ServerChangeFailed` with the server's message.
* A malformed edit: :class:`~documents.live.InvalidEdit`, before the
  document is even opened.
* The authority closed or began handing over meanwhile:
  :class:`~realtime.exceptions.AuthorityClosed`.

A version stored before the content schema is restored as it would be
repaired (``realtime.repair``): unknown embeds become placeholders, unknown
attributes are dropped, so the restore passes ``parse_change``.

Threads and loops: :func:`run_with_registry` is for synchronous Django
code (views, admin, services). In a worker (daphne), sync code runs in a
thread of the worker's event loop and the change goes through that
worker's registry. Elsewhere (a management command, the shell, tests with
Django's test client) there is no serving loop: a one-off registry is made
on a private loop, used once and closed, which stores a snapshot and lets
go of the document's lease like any unload. Which worker applies the
change (the document's owner, with several) is decided above realtime, by
the live-documents port that routing implements (:mod:`documents.live`);
:func:`apply_here` is its local case.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from asgiref.sync import SyncToAsync

from documents.authorship import AuthorshipUnavailable, authorship_at
from documents.live import AppliedChange, ServerChangeFailed, check_edit
from documents.models import Document
from realtime import protocol
from realtime.content_policy import content_policy
from realtime.edits import edit_change
from realtime.ot import Delta, DocumentText, InvalidDelta, attributes
from realtime.ot.authorship import Runs, from_json, inserted_runs, length, slice_runs
from realtime.ot.delta import op_length
from realtime.protocol import ErrorCode
from realtime.registry import Registry, process_registry
from realtime.repair import repaired
from realtime.revert import load_change, revert_change
from realtime.server_change import submit_until_answered

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: How long a restore may take, waits for storage included.
DEFAULT_TIMEOUT = 30.0


def restore_change(current: list[dict[str, Any]], target: list[dict[str, Any]]) -> Delta:
    """Return a valid change that turns document ``current`` into ``target``.

    quill-delta's ``diff`` takes the longest common prefix first, so from
    ``"\\nok\\n"`` to ``"\\n"`` it keeps the first newline and deletes the
    final one, which no valid change may do. Diff the two documents without
    their final newline instead, then retain that newline, carrying over any
    change of its (line-format) attributes.
    """
    before, after = Delta(current), Delta(target)
    before_body = before.length() - 1
    # A copy: the builders below may merge into the last op, and ops are shared.
    body = Delta(before.slice(0, before_body).diff(after.slice(0, after.length() - 1)).to_json())
    # diff() drops a trailing plain retain; retain up to the final newline.
    consumed = sum(op.get("retain", 0) + op.get("delete", 0) for op in body.ops)
    if consumed < before_body:
        body.retain(before_body - consumed)
    last_before = before.slice(before_body).ops[0].get("attributes") or {}
    last_after = after.slice(after.length() - 1).ops[0].get("attributes") or {}
    newline = attributes.diff(last_before, last_after)
    change = body.retain(1, newline).chop()
    try:
        DocumentText.from_ops(current).check(change)
    except InvalidDelta:
        # fast-diff works in UTF-16 code units and can cut between two
        # emoji that share a high surrogate. Fall back to replacing the
        # whole body: coarser, always valid, same result.
        change = Delta()
        for op in after.slice(0, after.length() - 1).ops:
            change.insert(op["insert"], op.get("attributes"))
        if before_body:
            change.delete(before_body)
        change.retain(1, newline).chop()
    return change


def _target_runs(stored: Any, target: list[dict[str, Any]]) -> Runs | None:
    """Return the restored version's authorship (``edit["authorship"]``) if it fits.

    None when the edit has none, it is malformed, or it no longer covers the
    target (the repair changed the content): the restorer is then the
    author of the text the restore puts back.
    """
    if stored is None:
        return None
    try:
        runs = from_json(stored)
    except ValueError:
        return None
    return runs if length(runs) == Delta(target).length() else None


def _runs_before(*, public_id: uuid.UUID, revision: int) -> Runs | None:
    """Return the authorship just before ``revision``, or None if unknown."""
    document = Document.objects.filter(public_id=public_id).first()
    if document is None:
        return None
    try:
        return authorship_at(document, revision - 1)[1]
    except AuthorshipUnavailable:
        return None


def _deleted_runs(change: list[dict[str, Any]], before: Runs | None, inverse: Delta) -> Runs | None:
    """Return who wrote the text ``change`` deleted, in order: the undo's attribution.

    ``inverse`` (``change`` inverted against the content before it) inserts
    exactly that text in that order. None when ``before`` is unknown or does
    not fit (then the text put back is the undoer's).
    """
    if before is None:
        return None
    out: Runs = []
    position = 0
    try:
        for op in change:
            size = op_length(op)
            if "delete" in op:
                for count, author in slice_runs(before, position, position + size):
                    if out and out[-1][1] == author:
                        out[-1] = (out[-1][0] + count, author)
                    else:
                        out.append((count, author))
            if "insert" not in op:
                position += size
    except (TypeError, KeyError):
        return None
    inserted = sum(op_length(op) for op in inverse.ops if "insert" in op)
    return out if length(out) == inserted else None


async def apply_edit(
    *,
    public_id: uuid.UUID,
    edit: dict[str, Any],
    user_id: int | None,
    user_name: str,
    registry: Registry | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> AppliedChange | None:
    """Apply ``edit`` (:mod:`documents.live`) with one op, live, as ``user_id``.

    Return the stored change, or None when there is nothing to do (the
    content already equals the target; no suggestion or anchor selected).
    ``user_name`` names the person in the log (a server change has no
    connection, so nobody sees it join).

    :raises InvalidEdit: a malformed edit.
    :raises ServerChangeFailed: see the module docstring.
    :raises AuthorityClosed: the authority closed or began handing over.
    :raises documents.store.DocumentMissing: no such document.
    """
    check_edit(edit)
    if registry is None:
        registry = process_registry()
    loop = asyncio.get_running_loop()
    target: list[dict[str, Any]] | None = None
    target_runs: Runs | None = None
    inverse: Delta | None = None
    inverse_runs: Runs | None = None
    if edit["kind"] == "content":
        # A version stored before the content schema may hold what the
        # authority now refuses: restore it as the load would repair it.
        target = await loop.run_in_executor(None, repaired, edit["target"], content_policy())
        target_runs = _target_runs(edit.get("authorship"), target)
    elif edit["kind"] == "revert":
        stored = await registry.runner.read(
            load_change, public_id=public_id, revision=edit["revision"]
        )
        inverse = revert_change(stored, user_id=user_id)
        if stored is not None:
            # The text the undo puts back keeps who wrote it before the change.
            before = await registry.runner.read(
                _runs_before, public_id=public_id, revision=edit["revision"]
            )
            inverse_runs = _deleted_runs(stored.delta, before, inverse)
    deadline = loop.time() + timeout
    authority = await registry.acquire(public_id)
    try:
        while True:
            decided: list[dict[str, Any]] = []
            attribution: Runs | None = None
            if inverse is not None:
                # Based on the change's own revision: the authority moves
                # it over everything after (from storage if need be).
                base, delta = edit["revision"], inverse
                attribution = inverse_runs
            elif target is not None:
                base = authority.head
                delta = await loop.run_in_executor(
                    None, restore_change, authority.content(), target
                )
                if target_runs is not None:
                    # The restored text keeps who wrote it in the version.
                    attribution = inserted_runs(delta.ops, target_runs)
            else:
                base = authority.head
                delta, decided = edit_change(edit, authority.content())
            if not delta.ops:
                return None
            op_id = f"{secrets.token_hex(12)}:1"
            message = protocol.OpMessage(op_id=op_id, rev=base, delta=delta.ops)
            logger.info(
                "%s edit on %s for %s (user %s) at r%d",
                edit["kind"],
                public_id,
                user_name,
                user_id,
                base,
            )
            answer = await submit_until_answered(
                authority, message, user_id=user_id, deadline=deadline, attribution=attribution
            )
            if answer is None:
                raise ServerChangeFailed("the change was not stored in time")
            if isinstance(answer, int):
                return AppliedChange(revision=answer, op_id=op_id, delta=delta.ops, decided=decided)
            if answer.code == ErrorCode.STALE and inverse is not None:
                raise ServerChangeFailed("too much has changed since to undo that change")
            if answer.code == ErrorCode.STALE:
                continue  # compute again from the current content
            if answer.code in (ErrorCode.UNAVAILABLE, ErrorCode.RATE_LIMITED):
                raise ServerChangeFailed(answer.message or "storage is unavailable")
            raise ServerChangeFailed(answer.message or answer.code or "refused")
    finally:
        registry.release(authority)


# --------------------------------------------------------------------------
# From synchronous code
# --------------------------------------------------------------------------


def _serving_loop() -> asyncio.AbstractEventLoop | None:
    """Return the worker's event loop when called from one of its sync threads."""
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if loop is not None and loop.is_running() and not loop.is_closed():
        return loop
    return None


def run_with_registry(
    work: Callable[[Registry], Awaitable[T]], *, timeout: float = DEFAULT_TIMEOUT
) -> T:
    """Run ``work(registry)`` on the worker's loop, or on a one-off registry.

    Blocks the calling thread, which must not be an event loop's.
    """
    loop = _serving_loop()
    if loop is not None:

        async def on_worker() -> T:
            return await work(process_registry())

        return asyncio.run_coroutine_threadsafe(on_worker(), loop).result(timeout + 5)

    async def one_off() -> T:
        registry = Registry()
        try:
            return await work(registry)
        finally:
            await registry.close()

    # A thread of its own: the caller may be inside another loop's thread
    # (Playwright's sync API), where asyncio.run() refuses to start.
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(asyncio.run(one_off()))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            errors.append(exc)

    thread = threading.Thread(target=run, name="collabdocs-server-change", daemon=True)
    thread.start()
    thread.join(timeout + 15)
    if thread.is_alive():
        raise ServerChangeFailed("the change did not finish in time")
    if errors:
        raise errors[0]
    return results[0]


def apply_here(
    *,
    public_id: uuid.UUID,
    edit: dict[str, Any],
    user_id: int | None,
    user_name: str,
    timeout: float = DEFAULT_TIMEOUT,
) -> AppliedChange | None:
    """Call :func:`apply_edit` on this process from sync code; block until stored.

    Applies the edit here whoever owns the document: deciding that is the
    caller's job (the live-documents port).
    """

    def work(registry: Registry) -> Awaitable[AppliedChange | None]:
        return apply_edit(
            public_id=public_id,
            edit=edit,
            user_id=user_id,
            user_name=user_name,
            registry=registry,
            timeout=timeout,
        )

    return run_with_registry(work, timeout=timeout)
