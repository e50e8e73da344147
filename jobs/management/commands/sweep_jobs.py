"""The sweeper: recovery and housekeeping that must happen without anyone acting (Procfile `sweeper`)."""

from __future__ import annotations

import logging
import signal
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connections

from jobs import services

logger = logging.getLogger("jobs.sweeper")

# Retention runs far less often than recovery: once an hour is plenty for a TTL counted in days.
PURGE_EVERY_SECONDS = 3600


def sweep_once() -> dict[str, int]:
    """One pass: lost workers, overdue cancels, jobs missing from the queue, this machine's scratch dirs."""
    return services.sweep_run()


class Command(BaseCommand):
    help = (
        "Recover render jobs whose worker died (re-queue or fail WORKER_LOST), stop running jobs that ignored a "
        "cancel, re-enqueue PENDING jobs the queue lost, tidy scratch, enqueue due webhooks, and purge old results "
        "(RENDER_RESULT_TTL_DAYS) and expired uploads. Loops every RENDER_SWEEP_INTERVAL seconds unless --once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass (and one purge), then exit")
        parser.add_argument("--interval", type=float, default=None, help="seconds between passes")

    def handle(self, *args, once: bool, interval: float | None, **options):
        interval = interval or settings.RENDER_SWEEP_INTERVAL
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        last_purge = float("-inf")
        self.stdout.write(f"Sweeping render jobs every {interval:g} s.")
        while not stop.is_set():
            try:
                purge = time.monotonic() - last_purge >= PURGE_EVERY_SECONDS
                counts = services.sweep_run(purge=purge)
                if purge and "purged" in counts:
                    last_purge = time.monotonic()
                if any(counts.values()):
                    logger.info("sweep: %s", ", ".join(f"{k} {v}" for k, v in counts.items() if v))
            finally:
                connections.close_all()
            if once:
                break
            stop.wait(interval)
