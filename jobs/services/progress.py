"""Between the renderer and the job row: throttled progress, the heartbeat, and the cancel check."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection

from jobs.models import RenderJob
from jobs.services import transitions as services

logger = logging.getLogger(__name__)

# How often should_cancel() may ask the database; the renderer calls it between frames.
CANCEL_POLL_SECONDS = 0.5
# A new message alone (same phase, under 1 % more) is stored at most this often.
MESSAGE_ONLY_INTERVAL = 2.0


class ProgressReporter:
    """Callable with a renderer `Progress`; stores what is worth telling, at most ~4 events a second.

    An event is stored on every phase change, and otherwise when the rate allows and progress grew by at
    least 1 % (or the message changed and nothing was stored for a while). While `heartbeating()` is
    active a thread touches `heartbeat_at` every RENDER_HEARTBEAT_INTERVAL, even while one frame takes
    long. `should_cancel()` turns true when a cancel was requested or the job is no longer this attempt's
    (canceled, re-queued by the sweeper, finished).
    """

    def __init__(self, job_id, *, attempt: int | None = None, max_per_second: float | None = None) -> None:
        self.job_id = job_id
        if attempt is None:
            attempt = RenderJob.objects.values_list("attempt", flat=True).get(pk=job_id)
        self.attempt = attempt
        rate = max_per_second or settings.REALTIME_PROGRESS_MAX_PER_SECOND
        self._min_interval = 1.0 / rate
        self._last_time = float("-inf")
        self._last_phase: str | None = None
        self._last_percent = -100.0
        self._last_message = ""
        self._lost = threading.Event()
        self._last_poll = float("-inf")
        self._cancel = False
        self.stored = 0

    # --- progress ---------------------------------------------------------------------------------------

    def __call__(self, progress: Any) -> None:
        now = time.monotonic()
        elapsed = now - self._last_time
        phase_changed = progress.phase != self._last_phase
        grew = progress.percent - self._last_percent >= 1.0
        talkative = progress.message != self._last_message and elapsed >= MESSAGE_ONLY_INTERVAL
        if not (phase_changed or (elapsed >= self._min_interval and (grew or talkative))):
            return
        self._last_time, self._last_phase = now, progress.phase
        self._last_percent, self._last_message = progress.percent, progress.message
        job = services.job_progress_record(
            job_id=self.job_id, attempt=self.attempt, phase=progress.phase, progress=progress.percent,
            message=progress.message,
        )
        if job is None:
            self._lost.set()
        else:
            self.stored += 1
            self._cancel = self._cancel or job.cancel_requested

    # --- cancel -----------------------------------------------------------------------------------------

    def should_cancel(self) -> bool:
        if self._cancel or self._lost.is_set():
            return True
        now = time.monotonic()
        if now - self._last_poll < CANCEL_POLL_SECONDS:
            return False
        self._last_poll = now
        row = RenderJob.objects.filter(pk=self.job_id).values_list("status", "attempt", "cancel_requested").first()
        if row is None or row[0] != RenderJob.Status.RUNNING or row[1] != self.attempt or row[2]:
            self._cancel = True
        return self._cancel

    # --- heartbeat --------------------------------------------------------------------------------------

    @contextmanager
    def heartbeating(self, interval: float | None = None) -> Iterator[ProgressReporter]:
        interval = interval or settings.RENDER_HEARTBEAT_INTERVAL
        stop = threading.Event()
        thread = threading.Thread(
            target=self._beat, args=(stop, interval), name=f"heartbeat-{self.job_id}", daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join(timeout=interval + 5)

    def _beat(self, stop: threading.Event, interval: float) -> None:
        try:
            while not stop.wait(interval):
                try:
                    if not services.job_heartbeat(job_id=self.job_id, attempt=self.attempt):
                        self._lost.set()
                except Exception:
                    # A database hiccup must not end the render; the next beat tries again.
                    logger.exception("job %s: heartbeat failed", self.job_id)
        finally:
            connection.close()  # this thread's own connection
