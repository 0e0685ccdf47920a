"""``manage.py compact_docs``: fold the op logs of idle documents into snapshots.

Thin by design: it picks the documents and prints; the work, and every
guarantee about it, is :func:`documents.compaction.version_compact`'s.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from documents.compaction import Status, compaction_candidates, get_guard, version_compact
from documents.models import Document

#: Show a progress bar from this many documents on (or on a terminal).
PROGRESS_FROM = 20


def _size(count: int) -> str:
    sign = "-" if count < 0 else ""
    value = float(abs(count))
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{sign}{value:.0f} {unit}" if unit == "B" else f"{sign}{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


class Command(BaseCommand):
    help = (
        "Fold the ops of documents nobody has had open for a while into a new snapshot, "
        "keeping the last few ops for clients that reconnect. Open documents are left to "
        "the worker serving them, which compacts them itself."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--idle-minutes",
            type=float,
            default=None,
            help="only documents neither open nor edited for this long "
            "(default COLLABDOCS['COMPACT_IDLE_MINUTES'])",
        )
        parser.add_argument(
            "--doc", nargs="+", default=None, metavar="ID", help="only these documents (public ids)"
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="say what would be folded and saved; change nothing",
        )
        parser.add_argument(
            "--keep-ops",
            type=int,
            default=None,
            help="ops to keep for reconnecting clients (default COLLABDOCS['COMPACT_KEEP_OPS'])",
        )
        parser.add_argument("--quiet", action="store_true", help="print the summary only")

    def handle(self, *args: Any, **options: Any) -> None:
        # kazoo logs every connection at INFO: noise in a command's output
        # (its warnings, a lost connection say, still show).
        logging.getLogger("kazoo").setLevel(max(logging.getLogger("kazoo").level, logging.WARNING))
        idle = options["idle_minutes"]
        idle = settings.COLLABDOCS["COMPACT_IDLE_MINUTES"] if idle is None else idle
        keep = options["keep_ops"]
        keep = settings.COLLABDOCS["COMPACT_KEEP_OPS"] if keep is None else keep
        if idle < 0 or keep < 0:
            raise CommandError("--idle-minutes and --keep-ops must not be negative")
        dry_run, quiet = options["dry_run"], options["quiet"]
        documents = self._documents(options["doc"], idle)
        started = time.perf_counter()
        guard = get_guard()
        totals = {Status.COMPACTED: 0, Status.WOULD_COMPACT: 0, Status.SKIPPED: 0}
        folded = saved = 0
        show_progress = not quiet and (sys.stderr.isatty() or len(documents) >= PROGRESS_FROM)
        try:
            for index, document in enumerate(documents, 1):
                result = version_compact(
                    document=document,
                    keep_ops=keep,
                    idle_minutes=idle,
                    dry_run=dry_run,
                    guard=guard,
                )
                totals[result.status] += 1
                if result.status != Status.SKIPPED:
                    folded += result.ops_folded
                    saved += result.bytes_saved
                if not quiet:
                    self._clear_progress(show_progress)
                    self.stdout.write(self._line(result))
                if show_progress:
                    self._progress(index, len(documents), started)
        finally:
            guard.close()
            self._clear_progress(show_progress)
        seconds = time.perf_counter() - started
        done = totals[Status.WOULD_COMPACT] if dry_run else totals[Status.COMPACTED]
        verb = "would compact" if dry_run else "compacted"
        self.stdout.write(
            f"{verb} {done} of {len(documents)} documents, {totals[Status.SKIPPED]} skipped; "
            f"{folded} ops folded, {_size(saved)} saved, {seconds:.2f} s"
            + (" (dry run: nothing changed)" if dry_run else "")
        )

    def _documents(self, ids: list[str] | None, idle: float) -> list[Document]:
        if not ids:
            return list(compaction_candidates(idle_minutes=idle).only("pk", "public_id", "title"))
        public_ids = []
        for value in ids:
            try:
                public_ids.append(uuid.UUID(value))
            except ValueError:
                raise CommandError(f"{value!r} is not a document id") from None
        found = {
            d.public_id: d
            for d in Document.objects.filter(public_id__in=public_ids).only(
                "pk", "public_id", "title"
            )
        }
        missing = [str(p) for p in public_ids if p not in found]
        if missing:
            raise CommandError(f"no such document: {', '.join(missing)}")
        return [found[p] for p in dict.fromkeys(public_ids)]

    def _line(self, result: Any) -> str:
        head = f"{result.public_id}  {result.title[:40]!r}"
        if result.status == Status.SKIPPED:
            return self.style.WARNING(f"{head}: skipped, {result.reason}")
        text = (
            f"{head}: {result.status} {result.ops_folded} ops at r{result.revision}, "
            f"{result.ops_deleted} deleted, {_size(result.bytes_saved)} saved, "
            f"{result.seconds * 1000:.0f} ms"
        )
        return self.style.SUCCESS(text) if result.status == Status.COMPACTED else text

    def _progress(self, done: int, total: int, started: float) -> None:
        if not sys.stderr.isatty():
            # A log, not a terminal: a line at every tenth of the way.
            step = max(1, total // 10)
            if done % step == 0 or done == total:
                sys.stderr.write(
                    f"progress: {done}/{total} documents, {time.perf_counter() - started:.1f} s\n"
                )
            return
        width = 30
        filled = int(width * done / total) if total else width
        elapsed = time.perf_counter() - started
        eta = elapsed / done * (total - done) if done else 0
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
            f"{elapsed:.0f}s elapsed, ~{eta:.0f}s left "
        )
        sys.stderr.flush()

    def _clear_progress(self, shown: bool) -> None:
        if shown and sys.stderr.isatty():
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
