"""What people ask of renders: submit one, cancel one, retry one (API, editor and admin alike)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from jobs.errors import JobStateConflict, QuotaExceeded
from jobs.merge import merge_key_for, timeline_merge_validate
from jobs.models import RenderJob
from jobs.render import preset_output
from jobs.services.queue import job_enqueue, queue_check, rq_job_discard
from jobs.services.transitions import job_change, record_first_event
from realtime import events as rt

logger = logging.getLogger("jobs.services")

Status = RenderJob.Status


def _active_job(project_id, merge_key: str = "") -> RenderJob | None:
    return RenderJob.objects.active().filter(project_id=project_id, batch_id__isnull=True,
                                              merge_key=merge_key).first()


def _job_create(*, project, user, timeline: dict, preset: str, size: tuple[int, int, float],
                retry_of: RenderJob | None = None, merge: dict | None = None,
                webhook_endpoint=None) -> tuple[RenderJob, bool]:
    """Create and enqueue a job, or return the project's active one. Quota is checked under the user's row lock."""
    queue_check()
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
            record_first_event(job)
            transaction.on_commit(lambda: job_enqueue(job.id))
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
    if not job.retryable:
        raise JobStateConflict(
            f"Retrying cannot help: this render failed with {job.error_code}, which a second run of the same "
            "timeline would hit again. Fix the project and start a new render."
        )
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
    canceled = job_change(
        job.pk,
        statuses=(Status.PENDING,),
        changes={"status": Status.CANCELED, "phase": "CANCELED", "message": "Canceled before it started",
                 "cancel_requested": True, "cancel_requested_at": now, "finished_at": now},
        builder=rt.event_canceled,
    )
    if canceled is not None:
        transaction.on_commit(lambda: rq_job_discard(canceled.pk))
        logger.info("job %s: canceled while pending", job.pk)
        return canceled
    asked = job_change(
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
