"""``manage.py sweep_images``: remove images no document uses any more (images.sweep)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from images.sweep import DEFAULT_GRACE, DEFAULT_LIMIT, sweep


class Command(BaseCommand):
    help = (
        "Remove images that no stored version or operation of their document names, "
        "and stored files no image names, older than the grace period."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be removed; remove nothing."
        )
        parser.add_argument(
            "--grace-hours",
            type=float,
            default=DEFAULT_GRACE.total_seconds() / 3600,
            help="Keep anything newer than this many hours (default %(default)s).",
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=DEFAULT_LIMIT,
            help="Examine at most this many images and remove at most this many files "
            "(default %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["grace_hours"] < 0 or options["limit"] < 1:
            raise CommandError("--grace-hours must be at least 0 and --limit at least 1.")
        dry_run = bool(options["dry_run"])
        report = sweep(
            grace=timedelta(hours=options["grace_hours"]),
            dry_run=dry_run,
            limit=options["limit"],
        )
        verb = "would remove" if dry_run else "removed"
        for image_id, document_id, size in report.images:
            self.stdout.write(f"{verb} image {image_id} of document {document_id} ({size} bytes)")
        for name in report.files:
            self.stdout.write(f"{verb} file {name}")
        summary = (
            f"{len(report.images)} image(s) and {len(report.files)} file(s) {verb}; "
            f"{report.examined} image(s) examined."
        )
        if report.truncated:
            summary += " Stopped at --limit: run again for the rest."
        self.stdout.write(summary)
