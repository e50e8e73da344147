"""Retention: delete results and event logs of finished jobs older than RENDER_RESULT_TTL_DAYS."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from jobs import services


class Command(BaseCommand):
    help = (
        "Delete the result files, posters and event logs of render jobs that finished more than "
        "RENDER_RESULT_TTL_DAYS days ago. Job rows keep their outcome. The sweeper runs this hourly."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help=f"age in days (default RENDER_RESULT_TTL_DAYS={settings.RENDER_RESULT_TTL_DAYS})")

    def handle(self, *args, days: int | None, **options):
        count = services.old_results_purge(older_than_days=days)
        self.stdout.write(f"Purged the results of {count} render job(s).")
