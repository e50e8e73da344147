"""The sweeper's work (manage.py sweep_jobs): recovery and housekeeping that happen without anyone acting."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import JobStatus

from config.wire import is_uuid
from jobs.captions import captions_names
from jobs.models import JobEvent, RenderJob
from jobs.services.cleanup import storage_delete_on_commit
from jobs.services.queue import job_enqueue, queue_connection, render_queue, rq_job_fetch
from jobs.services.transitions import job_mark_canceled, job_requeue
from jobs.webhooks.services import webhook_deliveries_due_enqueue

logger = logging.getLogger("jobs.services")

Status = RenderJob.Status

# A PENDING job is only re-enqueued by the sweeper once its own on-commit enqueue had time to happen.
ENQUEUE_GRACE = timedelta(seconds=10)


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
        rq_job = rq_job_fetch(job_id)
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
        job_enqueue(job_id)
        count += 1
    return count


def old_results_purge(*, older_than_days: int | None = None, now: datetime | None = None) -> int:
    """Delete result files, posters, caption sidecars and event logs of jobs finished RENDER_RESULT_TTL_DAYS ago.

    The job rows stay, with their outcome (status, error, checksum, size, duration); `result` turns null.
    """
    now = now or timezone.now()
    days = older_than_days if older_than_days is not None else settings.RENDER_RESULT_TTL_DAYS
    cutoff = now - timedelta(days=days)
    old = RenderJob.objects.filter(status__in=RenderJob.TERMINAL_STATUSES, finished_at__lt=cutoff,
                                   result_purged_at__isnull=True)
    count = 0
    for job in old.iterator():
        with transaction.atomic():
            JobEvent.objects.filter(job_id=job.pk).delete()
            RenderJob.objects.filter(pk=job.pk).update(result_file="", poster="", result_purged_at=now)
            # Only once the row no longer points at them: a rolled-back purge keeps a downloadable result.
            storage_delete_on_commit([job.result_file.name, job.poster.name,
                                      *captions_names(owner_id=job.owner_id, job_id=job.pk)],
                                     why=f"retention of job {job.pk}")
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
        # "<job_id>.part<N>": a segment-parallel part's (jobs.services.parts), kept while its job runs.
        if is_uuid(job_id) and (attempt.isdigit() or attempt.startswith("part")):
            dirs[(job_id, attempt)] = path
    running = {
        (str(pk), str(attempt))
        for pk, attempt in RenderJob.objects.filter(
            status=Status.RUNNING, id__in={job_id for job_id, _ in dirs}
        ).values_list("id", "attempt")
    }
    running_jobs = {job_id for job_id, _ in running}
    removed = 0
    for key, path in dirs.items():
        if key not in running and not (key[1].startswith("part") and key[0] in running_jobs):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


SWEEP_PASSES: tuple[tuple[str, Callable[[], int]], ...] = (
    ("recovered", lost_jobs_recover),
    ("stopped", overdue_cancels_stop),
    ("enqueued", unqueued_jobs_enqueue),
    ("tidied", work_dirs_tidy),
    ("webhooks", webhook_deliveries_due_enqueue),
)


def _uploads_expire() -> int:
    from projects.tus.services import uploads_expire

    return uploads_expire()


def sweep_run(*, purge: bool = False) -> dict[str, int]:
    """One sweeper round: every pass runs in its own `try`, so Redis being away (which stops the enqueue
    pass) still lets lost workers be recovered and scratch directories be tidied. A failed pass is logged
    and counted under `failed`; the next round tries it again."""
    passes = SWEEP_PASSES + ((("purged", old_results_purge), ("uploads_expired", _uploads_expire)) if purge else ())
    counts: dict[str, int] = {"failed": 0}
    for name, sweep_pass in passes:
        try:
            counts[name] = sweep_pass()
        except Exception:
            logger.exception("sweep: the %s pass failed; trying again next round", name)
            counts["failed"] += 1
    return counts
