"""The render job state machine: every change to a RenderJob and every JobEvent goes through `job_change`.

Rules that hold for every function below:
- A state change takes the job's row lock (`select_for_update`) and checks the state it expects, so two
  writers (a late worker, the sweeper, a cancel) never both win; terminal jobs never change again.
- Each told change is stored as a `JobEvent` with the next `seq` in the same transaction, then published
  to the browsers with `realtime.events.publish` once the transaction commits.
- Nothing slow (encoding, storage, Redis) happens while a row lock is held, except the on-commit enqueue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.models import JobEvent, RenderJob
from jobs.services.queue import job_enqueue
from jobs.webhooks.services import webhook_events_record
from realtime import events as rt

logger = logging.getLogger("jobs.services")

Status = RenderJob.Status

# Failures of the machinery rather than the job: retried automatically while attempts remain. Any
# other code fails the job at once.
TRANSIENT = frozenset({"WORKER_LOST", "STORAGE_ERROR"})
# Failures that say something about the input: running the same job again would fail the same way
# (`job.failed` says `retryable: false`, and a manual Retry is refused with 409).
NEVER_RETRIED = RenderJob.UNRETRYABLE_ERRORS


EventBuilder = Callable[..., dict[str, Any]]


def job_change(
    job_id,
    *,
    statuses: tuple[str, ...],
    changes: dict[str, Any] | Callable[[RenderJob], dict[str, Any]],
    builder: EventBuilder | None,
    attempt: int | None = None,
    guard: Callable[[RenderJob], bool] | None = None,
) -> RenderJob | None:
    """The one write path: lock the row, check its state, apply `changes`, store and publish one event.

    Returns the changed job, or None when the job is gone or no longer in one of `statuses` (or on
    another attempt): a late writer then changes nothing and publishes nothing.
    """
    with transaction.atomic():
        job = RenderJob.objects.select_for_update().filter(pk=job_id, status__in=statuses).first()
        if job is None or (attempt is not None and job.attempt != attempt) or (guard and not guard(job)):
            return None
        values = changes(job) if callable(changes) else changes
        for name, value in values.items():
            setattr(job, name, value)
        fields = {*values, "updated_at"}
        if builder is not None:
            job.last_seq += 1
            fields.add("last_seq")
        job.save(update_fields=sorted(fields))
        if builder is not None:
            event = builder(job, seq=job.last_seq, ts=job.updated_at)
            JobEvent.objects.create(job=job, seq=job.last_seq, type=event["type"], payload=event)
            rt.publish(job, event)
            webhook_events_record(job, event)
        return job


def record_first_event(job: RenderJob) -> None:
    """The `job.progress` that tells the owner's sockets a job exists (status PENDING). Inside the creating atomic."""
    job.last_seq = 1
    job.save(update_fields=["last_seq"])
    event = rt.event_progress(job, seq=1, ts=job.created_at)
    JobEvent.objects.create(job=job, seq=1, type=event["type"], payload=event)
    rt.publish(job, event)
    webhook_events_record(job, event)


def job_claim(*, job_id, worker_name: str = "") -> RenderJob | None:
    """PENDING → RUNNING for the worker that dequeued it; None if it is no longer PENDING (or was canceled)."""
    now = timezone.now()
    return job_change(
        job_id,
        statuses=(Status.PENDING,),
        changes={"status": Status.RUNNING, "phase": "PREPARE", "progress": 0.0, "message": "Preparing the render",
                 "started_at": now, "heartbeat_at": now, "finished_at": None, "worker_name": worker_name[:200]},
        builder=rt.event_progress,
        guard=lambda j: not j.cancel_requested,
    )


def job_progress_record(*, job_id, attempt: int, phase: str, progress: float, message: str,
                        eta_seconds: float | None = None) -> RenderJob | None:
    """Store one throttled progress report (the ProgressReporter decides when). Progress only grows per attempt.

    `eta_seconds` (the renderer's estimate of the time left, None when unknown) rides on the event only.
    """
    return job_change(
        job_id,
        statuses=(Status.RUNNING,),
        attempt=attempt,
        changes=lambda job: {
            "phase": phase[:32],
            "progress": max(job.progress, min(100.0, max(0.0, float(progress)))),
            "message": message[:500],
            "heartbeat_at": timezone.now(),
        },
        builder=lambda job, **when: rt.event_progress(job, eta_seconds=eta_seconds, **when),
    )


def job_heartbeat(*, job_id, attempt: int) -> bool:
    """Touch `heartbeat_at`; False when the job is no longer this attempt's to run (canceled, re-queued, done)."""
    return bool(
        RenderJob.objects.filter(pk=job_id, status=Status.RUNNING, attempt=attempt).update(
            heartbeat_at=timezone.now()
        )
    )


@dataclass
class StoredResult:
    result_file: str
    poster: str
    sha256: str
    size_bytes: int
    duration: float
    width: int
    height: int
    fps: float
    render_path: str


def job_succeed(*, job_id, attempt: int, result: StoredResult) -> RenderJob | None:
    now = timezone.now()
    return job_change(
        job_id,
        statuses=(Status.RUNNING,),
        attempt=attempt,
        changes={
            "status": Status.SUCCEEDED, "phase": "DONE", "progress": 100.0, "message": "Render finished",
            "finished_at": now, "heartbeat_at": now, "result_file": result.result_file, "poster": result.poster,
            "result_sha256": result.sha256, "result_size_bytes": result.size_bytes,
            "result_duration": result.duration, "result_width": result.width, "result_height": result.height,
            "result_fps": result.fps, "render_path": result.render_path,
        },
        builder=rt.event_completed,
    )


def job_fail(*, job_id, error_code: str, error_message: str, attempt: int | None = None) -> RenderJob | None:
    """Mark FAILED (from PENDING or RUNNING; `attempt` restricts it to that attempt's run)."""
    now = timezone.now()
    job = job_change(
        job_id,
        statuses=RenderJob.ACTIVE_STATUSES,
        attempt=attempt,
        changes={"status": Status.FAILED, "phase": "FAILED", "message": error_message[:500],
                 "error_code": error_code, "error_message": error_message, "finished_at": now},
        builder=rt.event_failed,
    )
    if job is not None:
        logger.info("job %s: failed with %s: %s", job_id, error_code, error_message)
    return job


def job_mark_canceled(*, job_id, attempt: int | None = None, message: str = "Canceled") -> RenderJob | None:
    now = timezone.now()
    return job_change(
        job_id,
        statuses=RenderJob.ACTIVE_STATUSES,
        attempt=attempt,
        changes={"status": Status.CANCELED, "phase": "CANCELED", "message": message, "finished_at": now},
        builder=rt.event_canceled,
    )


def job_requeue(*, job_id, attempt: int, error_code: str, reason: str) -> RenderJob | None:
    """Try again after a transient failure: attempt + 1 while attempts remain, else FAILED with `error_code`.

    Only TRANSIENT errors are retried; any other fails at once. A job whose cancel was requested is
    canceled instead.
    """
    with transaction.atomic():
        job = RenderJob.objects.select_for_update().filter(pk=job_id, status=Status.RUNNING, attempt=attempt).first()
        if job is None:
            return None
        if job.cancel_requested:
            return job_mark_canceled(job_id=job_id, attempt=attempt)
        if error_code not in TRANSIENT or job.attempt >= settings.RENDER_MAX_ATTEMPTS:
            return job_fail(job_id=job_id, attempt=attempt, error_code=error_code, error_message=reason)
        requeued = job_change(
            job_id,
            statuses=(Status.RUNNING,),
            attempt=attempt,
            changes={"status": Status.PENDING, "attempt": attempt + 1, "phase": "QUEUED", "progress": 0.0,
                     "message": f"{reason} Trying again (attempt {attempt + 1} of {settings.RENDER_MAX_ATTEMPTS}).",
                     "heartbeat_at": None, "worker_name": "", "queued_at": timezone.now()},
            builder=rt.event_progress,
        )
        transaction.on_commit(lambda: job_enqueue(job_id))
    logger.warning("job %s: re-queued after %s (attempt %s)", job_id, error_code, attempt + 1)
    return requeued


def job_hand_back(*, job_id, worker_name: str) -> RenderJob | None:
    """RUNNING → PENDING with the attempt unchanged: the worker running it is stopping (jobs.worker).

    Not a failure: no attempt is used up. The caller enqueues the job again once its worker is done with it.
    """
    job = job_change(
        job_id,
        statuses=(Status.RUNNING,),
        changes={"status": Status.PENDING, "phase": "QUEUED", "progress": 0.0,
                 "message": "The worker rendering this was stopped; another worker continues it.",
                 "heartbeat_at": None, "worker_name": "", "queued_at": timezone.now()},
        builder=rt.event_progress,
    )
    if job is not None:
        logger.info("job %s: handed back by stopping worker %s (attempt %s)", job_id, worker_name, job.attempt)
    return job
