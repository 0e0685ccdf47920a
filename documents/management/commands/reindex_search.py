"""``manage.py reindex_search``: rebuild the search text of documents.

Run it after deploying the migration that adds search (0007), whose
existing documents have no search rows yet, or any time rows are in doubt.
Thin: the work is :func:`documents.search.reindex_all`'s.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from documents.search import reindex_all


class Command(BaseCommand):
    help = (
        "Read every document's current text into its search row (title and body; the "
        "full-text vector on PostgreSQL). With --stale, only the rows missing or behind."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stale",
            action="store_true",
            help="Only documents whose search row is missing, behind, or of an old title.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        done = reindex_all(stale_only=options["stale"])
        self.stdout.write(f"Indexed {done} document{'s' if done != 1 else ''} for search.")
