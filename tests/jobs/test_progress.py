"""The ProgressReporter: throttling, the heartbeat thread, the cancel check."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from jobs import services
from jobs.models import JobEvent, RenderJob
from jobs.services.progress import ProgressReporter
from tests.factories import RenderJobFactory


@dataclass
class Progress:
    phase: str
    percent: float
    message: str
    eta_seconds: float | None = None


def wait_for(predicate, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll until true (inside the test's transaction: no connection juggling)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def running_job(db):
    job = RenderJobFactory()
    return services.job_claim(job_id=job.id)


def test_a_flood_of_reports_is_throttled_to_about_four_a_second(running_job):
    reporter = ProgressReporter(running_job.id, attempt=1)
    before = JobEvent.objects.filter(job=running_job).count()  # the submit's and the claim's events
    started = time.monotonic()
    for frame in range(2000):
        reporter(Progress("ENCODE", 5 + frame * 90 / 2000, f"Encoding frame {frame} of 2000"))
    elapsed = time.monotonic() - started
    stored = JobEvent.objects.filter(job=running_job).count() - before
    assert 1 <= stored <= 4 * elapsed + 2


def test_every_phase_change_is_stored(running_job):
    reporter = ProgressReporter(running_job.id, attempt=1)
    for phase, percent in [("PREPARE", 1), ("ENCODE", 5), ("FINALIZE", 95)]:
        reporter(Progress(phase, percent, phase.lower()))
    phases = [e.payload["phase"] for e in JobEvent.objects.filter(job=running_job).order_by("seq")]
    assert phases[-3:] == ["PREPARE", "ENCODE", "FINALIZE"]


def test_small_steps_below_one_percent_are_not_stored(running_job):
    # No rate limit to wait out: only the 1 % rule decides.
    reporter = ProgressReporter(running_job.id, attempt=1, max_per_second=1e9)
    reporter(Progress("ENCODE", 10.0, "a"))
    reporter(Progress("ENCODE", 10.5, "a"))
    reporter(Progress("ENCODE", 11.2, "a"))
    after_claim = JobEvent.objects.filter(job=running_job, seq__gt=running_job.last_seq).order_by("seq")
    percents = [e.payload["progress"] for e in after_claim]
    assert percents == [10.0, 11.2]


def test_heartbeat_continues_while_one_frame_takes_long(transactional_db):
    job = services.job_claim(job_id=RenderJobFactory().id)
    first = job.heartbeat_at
    reporter = ProgressReporter(job.id, attempt=1)
    with reporter.heartbeating(interval=0.2):
        # One slow frame: no progress report at all, yet the heartbeat moves.
        wait_for(lambda: RenderJob.objects.get(pk=job.pk).heartbeat_at > first, timeout=10, what="a heartbeat")


def test_should_cancel_sees_a_cancel_request_within_half_a_second(running_job):
    reporter = ProgressReporter(running_job.id, attempt=1)
    assert reporter.should_cancel() is False
    services.job_cancel(job=running_job)
    asked = time.monotonic()
    wait_for(reporter.should_cancel, timeout=5, interval=0.05, what="should_cancel")
    # Polled at most every CANCEL_POLL_SECONDS; generous bound, the CPU is shared.
    assert time.monotonic() - asked < 5


def test_should_cancel_is_true_when_the_job_was_requeued_to_another_attempt(running_job):
    reporter = ProgressReporter(running_job.id, attempt=1)
    services.job_requeue(job_id=running_job.id, attempt=1, error_code="WORKER_LOST", reason="Lost.")
    wait_for(reporter.should_cancel, timeout=5, interval=0.05, what="should_cancel")


def test_the_renderers_eta_reaches_the_stored_event(running_job):
    from jobs.render.values import Progress as RendererProgress

    reporter = ProgressReporter(running_job.id, attempt=running_job.attempt)
    reporter(RendererProgress("ENCODE", 40.0, "Encoding frame 1 of 10", eta_seconds=7.25))
    event = JobEvent.objects.filter(job=running_job).order_by("-seq").first()
    assert event.payload["phase"] == "ENCODE" and event.payload["eta_seconds"] == 7.2
