"""The render job state machine: every change to a RenderJob and every JobEvent goes through here.

Rules that hold for every function below:
- A state change takes the job's row lock (`select_for_update`) and checks the state it expects, so two
  writers (a late worker, the sweeper, a cancel) never both win; terminal jobs never change again.
- Each told change is stored as a `JobEvent` with the next `seq` in the same transaction, then published
  to the browsers with `realtime.events.publish` once the transaction commits.
- Nothing slow (encoding, storage, Redis) happens while a row lock is held, except the on-commit enqueue.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import django_rq
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework import status as http_status
from rq.callbacks import Callback
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job as RQJob
from rq.job import JobStatus

from config.exceptions import CutlineError
from jobs.merge import merge_key_for, timeline_merge_validate
from jobs.models import JobEvent, RenderJob
from jobs.render import preset_output
from jobs.webhooks.services import webhook_events_record
from realtime import events as rt

logger = logging.getLogger(__name__)

Status = RenderJob.Status

# Failures that say something about the input: running the same job again would fail the same way.
NEVER_RETRIED = frozenset({"INVALID_TIMELINE", "MEDIA_MISSING", "MEDIA_UNREADABLE"})
# Failures of the machinery rather than the job: retried automatically while attempts remain.
TRANSIENT = frozenset({"WORKER_LOST", "STORAGE_ERROR"})

# A PENDING job is only re-enqueued by the sweeper once its own on-commit enqueue had time to happen.
ENQUEUE_GRACE = timedelta(seconds=10)


class QuotaExceeded(CutlineError):
    error_code = "QUOTA_EXCEEDED"
    http_status = http_status.HTTP_429_TOO_MANY_REQUESTS


class QueueUnavailable(CutlineError):
    error_code = "QUEUE_UNAVAILABLE"
    http_status = http_status.HTTP_503_SERVICE_UNAVAILABLE
    error_type = "server_error"


class JobStateConflict(CutlineError):
    error_code = "JOB_STATE_CONFLICT"
    http_status = http_status.HTTP_409_CONFLICT


class StorageError(CutlineError):
    error_code = "STORAGE_ERROR"
    http_status = http_status.HTTP_500_INTERNAL_SERVER_ERROR
    error_type = "server_error"


# --- The queue ------------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _redis_for(url: str, timeout: float) -> redis.Redis:
    # Short timeouts: when Redis is down a submit must answer 503 at once instead of hanging the request.
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=max(timeout, 5.0))


def queue_connection() -> redis.Redis:
    return _redis_for(settings.RQ_QUEUES["render"]["URL"], settings.REDIS_TIMEOUT)


def render_queue():
    # "auto": enqueue now. Callers already enqueue from `transaction.on_commit`, and must see Redis errors.
    return django_rq.get_queue("render", connection=queue_connection(), commit_mode="auto")


def _queue_check() -> None:
    try:
        queue_connection().ping()
    except (redis.RedisError, OSError) as exc:
        logger.warning("render queue unavailable: %s", exc)
        raise QueueUnavailable(
            "Rendering is unavailable right now: the job queue does not answer. Your project is saved; "
            "try again in a minute."
        ) from None


def _rq_job(job_id) -> RQJob | None:
    try:
        return RQJob.fetch(str(job_id), connection=queue_connection())
    except NoSuchJobError:
        return None


def _rq_job_discard(job_id) -> None:
    """Forget the RQ side of a job (queue entry, registries, hash), unless a worker is running it right now."""
    try:
        rq_job = _rq_job(job_id)
        if rq_job is not None and rq_job.get_status(refresh=False) != JobStatus.STARTED:
            rq_job.delete()
    except (redis.RedisError, OSError) as exc:
        logger.warning("job %s: could not remove it from the queue: %s", job_id, exc)


def _enqueue(job_id) -> None:
    """Put the job on the `render` queue with RQ job id = job id. Called after commit.

    A failure here loses nothing: the job stays PENDING and the sweeper enqueues it again.
    """
    from jobs import tasks  # tasks imports this module

    job_id = str(job_id)
    try:
        existing = _rq_job(job_id)
        if existing is not None:
            # A previous attempt's hash (finished, failed, abandoned by a dead worker): replace it, so
            # RQ's own cleanup of that attempt cannot act on the new one.
            existing.delete()
        render_queue().enqueue(
            tasks.render,
            job_id,
            job_id=job_id,
            job_timeout=settings.RENDER_JOB_TIMEOUT,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            on_stopped=Callback(tasks.render_stopped),
            description=f"render {job_id}",
        )
    except (redis.RedisError, OSError) as exc:
        logger.warning("job %s: could not enqueue (%s); the sweeper will enqueue it later", job_id, exc)


# --- Storing and publishing events ----------------------------------------------------------------------


EventBuilder = Callable[..., dict[str, Any]]


def _change(
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


def _record_first_event(job: RenderJob) -> None:
    """The `job.progress` that tells the owner's sockets a job exists (status PENDING). Inside the creating atomic."""
    job.last_seq = 1
    job.save(update_fields=["last_seq"])
    event = rt.event_progress(job, seq=1, ts=job.created_at)
    JobEvent.objects.create(job=job, seq=1, type=event["type"], payload=event)
    rt.publish(job, event)
    webhook_events_record(job, event)


# --- Submitting, cancelling, retrying -------------------------------------------------------------------


def _active_job(project_id, merge_key: str = "") -> RenderJob | None:
    return RenderJob.objects.active().filter(project_id=project_id, batch_id__isnull=True,
                                              merge_key=merge_key).first()


def _job_create(*, project, user, timeline: dict, preset: str, size: tuple[int, int, float],
                retry_of: RenderJob | None = None, merge: dict | None = None,
                webhook_endpoint=None) -> tuple[RenderJob, bool]:
    """Create and enqueue a job, or return the project's active one. Quota is checked under the user's row lock."""
    _queue_check()
    width, height, fps = size
    merge_key = merge_key_for(merge)
    try:
        with transaction.atomic():
            # Serialises one user's submits, so the active-job count below cannot be raced past the limit.
            get_user_model().objects.select_for_update().filter(pk=user.pk).first()
            active = _active_job(project.pk, merge_key)
            if active is not None:
                return active, False
            # Jobs of batches have their own limit (jobs/batches.py).
            running = RenderJob.objects.active().filter(owner=user, batch_id__isnull=True).count()
            if running >= settings.RENDER_MAX_ACTIVE_JOBS_PER_USER:
                raise QuotaExceeded(
                    f"You already have {running} renders waiting or running (the limit is "
                    f"{settings.RENDER_MAX_ACTIVE_JOBS_PER_USER}). Wait for one to finish or cancel one."
                )
            now = timezone.now()
            job = RenderJob.objects.create(
                owner=user,
                project=project,
                retry_of=retry_of,
                timeline=timeline,
                preset=preset,
                output_width=width,
                output_height=height,
                output_fps=fps,
                message="Waiting for a worker",
                queued_at=now,
                merge=merge or {},
                merge_key=merge_key,
                webhook_endpoint=webhook_endpoint,
            )
            _record_first_event(job)
            transaction.on_commit(lambda: _enqueue(job.id))
    except IntegrityError:
        # Another request created the project's active job between our check and insert (the partial
        # unique constraint `one_active_render_per_project_merge` refused ours): answer with that job.
        active = _active_job(project.pk, merge_key)
        if active is None:
            raise
        return active, False
    logger.info("job %s: submitted for project %s (preset %s, retry of %s)", job.id, project.pk, preset,
                retry_of.pk if retry_of else None)
    return job, True


def render_submit(*, project, user, preset: str, merge: dict | None = None,
                  webhook_endpoint=None) -> tuple[RenderJob, bool]:
    """Start rendering `project` with `preset` (and `merge` values for its `{{fields}}`); returns (job, created).

    The project's PENDING/RUNNING job with the same merge values, if any, is returned instead of a new
    one (idempotent, race-safe). Raises TimelineInvalid, QuotaExceeded, QueueUnavailable.
    """
    active = _active_job(project.pk, merge_key_for(merge))
    if active is not None:
        return active, False
    timeline = timeline_merge_validate(project.timeline, merge, owner=user)
    return _job_create(project=project, user=user, timeline=timeline, preset=preset,
                       size=preset_output(preset, timeline), merge=merge, webhook_endpoint=webhook_endpoint)


def job_retry(*, job: RenderJob) -> RenderJob:
    """A new job rendering the same frozen timeline as a FAILED or CANCELED one."""
    if job.status not in (Status.FAILED, Status.CANCELED):
        raise JobStateConflict(f"Only failed or canceled renders can be retried; this one is {job.status.lower()}.")
    new_job, created = _job_create(
        project=job.project,
        user=job.owner,
        timeline=job.timeline,
        preset=job.preset,
        size=(job.output_width, job.output_height, job.output_fps),
        retry_of=job,
        merge=job.merge or None,
        webhook_endpoint=job.webhook_endpoint,
    )
    if not created:
        raise JobStateConflict(
            "This project already has a render waiting or running; cancel it first.",
            extra={"job_id": str(new_job.id)},
        )
    return new_job


def job_cancel(*, job: RenderJob) -> RenderJob:
    """Cancel a PENDING job at once; ask a RUNNING one to stop (the sweeper kills it after RENDER_CANCEL_GRACE)."""
    now = timezone.now()
    canceled = _change(
        job.pk,
        statuses=(Status.PENDING,),
        changes={"status": Status.CANCELED, "phase": "CANCELED", "message": "Canceled before it started",
                 "cancel_requested": True, "cancel_requested_at": now, "finished_at": now},
        builder=rt.event_canceled,
    )
    if canceled is not None:
        transaction.on_commit(lambda: _rq_job_discard(canceled.pk))
        logger.info("job %s: canceled while pending", job.pk)
        return canceled
    asked = _change(
        job.pk,
        statuses=(Status.RUNNING,),
        changes={"cancel_requested": True, "cancel_requested_at": now, "message": "Stopping…"},
        builder=rt.event_progress,
        guard=lambda j: not j.cancel_requested,
    )
    if asked is not None:
        logger.info("job %s: cancel requested while running", job.pk)
        return asked
    current = RenderJob.objects.get(pk=job.pk)
    if current.is_terminal:
        raise JobStateConflict(f"This render has already finished ({current.status.lower()}).")
    return current  # RUNNING with a cancel already requested


# --- Transitions the task uses --------------------------------------------------------------------------


def job_claim(*, job_id, worker_name: str = "") -> RenderJob | None:
    """PENDING → RUNNING for the worker that dequeued it; None if it is no longer PENDING (or was canceled)."""
    now = timezone.now()
    return _change(
        job_id,
        statuses=(Status.PENDING,),
        changes={"status": Status.RUNNING, "phase": "PREPARE", "progress": 0.0, "message": "Preparing the render",
                 "started_at": now, "heartbeat_at": now, "finished_at": None, "worker_name": worker_name[:200]},
        builder=rt.event_progress,
        guard=lambda j: not j.cancel_requested,
    )


def job_progress_record(*, job_id, attempt: int, phase: str, progress: float, message: str) -> RenderJob | None:
    """Store one throttled progress report (the ProgressReporter decides when). Progress only grows per attempt."""
    return _change(
        job_id,
        statuses=(Status.RUNNING,),
        attempt=attempt,
        changes=lambda job: {
            "phase": phase[:32],
            "progress": max(job.progress, min(100.0, max(0.0, float(progress)))),
            "message": message[:500],
            "heartbeat_at": timezone.now(),
        },
        builder=rt.event_progress,
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
    return _change(
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
    job = _change(
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
    return _change(
        job_id,
        statuses=RenderJob.ACTIVE_STATUSES,
        attempt=attempt,
        changes={"status": Status.CANCELED, "phase": "CANCELED", "message": message, "finished_at": now},
        builder=rt.event_canceled,
    )


def job_requeue(*, job_id, attempt: int, error_code: str, reason: str) -> RenderJob | None:
    """Try again after a transient failure: attempt + 1 while attempts remain, else FAILED with `error_code`.

    Errors about the input (NEVER_RETRIED) always fail at once; a job whose cancel was requested is
    canceled instead.
    """
    with transaction.atomic():
        job = RenderJob.objects.select_for_update().filter(pk=job_id, status=Status.RUNNING, attempt=attempt).first()
        if job is None:
            return None
        if job.cancel_requested:
            return job_mark_canceled(job_id=job_id, attempt=attempt)
        if error_code in NEVER_RETRIED or job.attempt >= settings.RENDER_MAX_ATTEMPTS:
            return job_fail(job_id=job_id, attempt=attempt, error_code=error_code, error_message=reason)
        requeued = _change(
            job_id,
            statuses=(Status.RUNNING,),
            attempt=attempt,
            changes={"status": Status.PENDING, "attempt": attempt + 1, "phase": "QUEUED", "progress": 0.0,
                     "message": f"{reason} Trying again (attempt {attempt + 1} of {settings.RENDER_MAX_ATTEMPTS}).",
                     "heartbeat_at": None, "worker_name": "", "queued_at": timezone.now()},
            builder=rt.event_progress,
        )
        transaction.on_commit(lambda: _enqueue(job_id))
    logger.warning("job %s: re-queued after %s (attempt %s)", job_id, error_code, attempt + 1)
    return requeued


# --- The sweeper's work (manage.py sweep_jobs) ----------------------------------------------------------


def lost_jobs_recover(*, now: datetime | None = None) -> int:
    """RUNNING jobs whose heartbeat stopped: re-queue them (attempt + 1) or fail them with WORKER_LOST."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.RENDER_HEARTBEAT_TIMEOUT)
    stale = RenderJob.objects.filter(status=Status.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    count = 0
    for job_id, attempt in stale.values_list("id", "attempt"):
        # Re-check under the lock: a heartbeat may have arrived since the query above.
        with transaction.atomic():
            fresh = RenderJob.objects.select_for_update().filter(
                Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff),
                pk=job_id, status=Status.RUNNING, attempt=attempt,
            ).exists()
            if not fresh:
                continue
            logger.warning("job %s: no heartbeat since %s; the worker is lost", job_id, cutoff)
            job_requeue(job_id=job_id, attempt=attempt, error_code="WORKER_LOST",
                        reason="The worker running this render stopped answering.")
            count += 1
    return count


def overdue_cancels_stop(*, now: datetime | None = None) -> int:
    """RUNNING jobs that did not confirm a cancel within RENDER_CANCEL_GRACE: kill the work horse, mark CANCELED."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.RENDER_CANCEL_GRACE)
    overdue = RenderJob.objects.filter(status=Status.RUNNING, cancel_requested=True, cancel_requested_at__lt=cutoff)
    count = 0
    for job_id, attempt in overdue.values_list("id", "attempt"):
        job_stop_now(job_id=job_id, attempt=attempt)
        count += 1
    return count


def job_stop_now(*, job_id, attempt: int | None = None) -> RenderJob | None:
    """Stop a running job without its cooperation: RQ's stop-job command kills the work horse (and its
    process group); the worker then runs `tasks.render_stopped`, which removes the job's scratch files."""
    try:
        from rq.command import send_stop_job_command

        send_stop_job_command(queue_connection(), str(job_id))
    except (NoSuchJobError, InvalidJobOperation):
        pass  # not executing anywhere (its worker is gone): nothing to kill
    except (redis.RedisError, OSError) as exc:
        logger.warning("job %s: could not send the stop command: %s", job_id, exc)
    job = job_mark_canceled(job_id=job_id, attempt=attempt, message="Canceled (the render was stopped)")
    if job is not None:
        logger.warning("job %s: worker did not confirm the cancel in time; stopped it", job_id)
    return job


def unqueued_jobs_enqueue(*, now: datetime | None = None) -> int:
    """PENDING jobs the queue does not know (a crash between commit and enqueue, a Redis flush): enqueue them."""
    now = now or timezone.now()
    pending = RenderJob.objects.filter(status=Status.PENDING, cancel_requested=False).filter(
        Q(queued_at__lt=now - ENQUEUE_GRACE) | Q(queued_at__isnull=True)
    )
    count = 0
    queued: set[str] | None = None
    for job_id in pending.values_list("id", flat=True):
        rq_job = _rq_job(job_id)
        rq_status = rq_job.get_status(refresh=False) if rq_job is not None else None
        if rq_status in (JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
            continue
        if rq_status == JobStatus.QUEUED:
            if queued is None:
                queued = set(render_queue().get_job_ids())
            if str(job_id) in queued:
                continue
        logger.warning("job %s: pending but not queued (RQ status %s); enqueuing it again", job_id, rq_status)
        RenderJob.objects.filter(pk=job_id, status=Status.PENDING).update(queued_at=timezone.now())
        _enqueue(job_id)
        count += 1
    return count


def old_results_purge(*, older_than_days: int | None = None, now: datetime | None = None) -> int:
    """Delete result files, posters and event logs of jobs finished more than RENDER_RESULT_TTL_DAYS ago.

    The job rows stay, with their outcome (status, error, checksum, size, duration); `result` turns null.
    """
    now = now or timezone.now()
    days = older_than_days if older_than_days is not None else settings.RENDER_RESULT_TTL_DAYS
    cutoff = now - timedelta(days=days)
    old = RenderJob.objects.filter(status__in=RenderJob.TERMINAL_STATUSES, finished_at__lt=cutoff,
                                   result_purged_at__isnull=True)
    count = 0
    for job in old.iterator():
        for name in (job.result_file.name, job.poster.name):
            if name:
                try:
                    default_storage.delete(name)
                except OSError as exc:
                    logger.warning("job %s: could not delete %s: %s", job.pk, name, exc)
        with transaction.atomic():
            JobEvent.objects.filter(job_id=job.pk).delete()
            RenderJob.objects.filter(pk=job.pk).update(result_file="", poster="", result_purged_at=now)
        count += 1
    return count


def work_dirs_tidy() -> int:
    """Remove this machine's scratch directories (`<job_id>.<attempt>`) that no running attempt owns.

    A work horse killed hard (SIGKILL, OOM) leaves its directory behind; the job has moved on by then.
    """
    root = Path(settings.RENDER_WORK_DIR)
    if not root.is_dir():
        return 0
    dirs: dict[tuple[str, str], Path] = {}
    for path in root.iterdir():
        job_id, _, attempt = path.name.partition(".")
        if _is_uuid(job_id) and attempt.isdigit():
            dirs[(job_id, attempt)] = path
    running = {
        (str(pk), str(attempt))
        for pk, attempt in RenderJob.objects.filter(
            status=Status.RUNNING, id__in={job_id for job_id, _ in dirs}
        ).values_list("id", "attempt")
    }
    removed = 0
    for key, path in dirs.items():
        if key not in running:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
