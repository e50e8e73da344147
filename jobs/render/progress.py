"""Progress reports and cancel checks as the render paths see them.

The renderer reports freely (the job's ProgressReporter throttles what reaches the database and the
sockets); it only makes sure percentages never go backwards within a render and that messages read well.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from jobs.render.errors import RenderCanceled, RenderTimeout
from jobs.render.values import Progress

PREPARE, ENCODE, FINALIZE = "PREPARE", "ENCODE", "FINALIZE"
ENCODE_START, ENCODE_END = 5.0, 95.0
CANCEL_CHECK_INTERVAL = 0.1  # seconds: should_cancel may cost a database read


class RenderMonitor:
    """Carries on_progress / should_cancel / the deadline through one render."""

    def __init__(self, on_progress: Callable[[Progress], None] | None, should_cancel: Callable[[], bool] | None,
                 *, timeout: float | None) -> None:
        self._on_progress = on_progress
        self._should_cancel = should_cancel
        self.started = time.monotonic()
        self.deadline = None if timeout is None else self.started + timeout
        self.timeout = timeout
        self._percent = 0.0
        self._encode_started: float | None = None
        self._last_cancel_check = 0.0

    def report(self, phase: str, percent: float, message: str, eta: float | None = None) -> None:
        self._percent = max(self._percent, min(100.0, percent))
        if self._on_progress is not None:
            self._on_progress(Progress(phase=phase, percent=round(self._percent, 2), message=message,
                                       eta_seconds=None if eta is None else round(max(0.0, eta), 1)))

    def encode_started(self) -> None:
        self._encode_started = time.monotonic()

    def encode_progress(self, done: float, message: str) -> None:
        """ENCODE progress for a fraction `done` of the work, with a linear time-left estimate."""
        done = min(1.0, max(0.0, done))
        eta = None
        if self._encode_started is not None and done > 0.02:
            elapsed = time.monotonic() - self._encode_started
            eta = elapsed / done * (1 - done)
        self.report(ENCODE, ENCODE_START + (ENCODE_END - ENCODE_START) * done, message, eta)

    def check(self, *, force: bool = False) -> None:
        """Raise RenderCanceled / RenderTimeout when it is time to stop (cancel polled at most every 0.1 s)."""
        now = time.monotonic()
        if self.deadline is not None and now > self.deadline:
            minutes = (self.timeout or 0) / 60
            raise RenderTimeout(f"The render took longer than the {minutes:g}-minute limit.")
        if self._should_cancel is None:
            return
        if not force and now - self._last_cancel_check < CANCEL_CHECK_INTERVAL:
            return
        self._last_cancel_check = now
        if self._should_cancel():
            raise RenderCanceled("The render was canceled.")
