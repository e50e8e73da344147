"""What people ask of renders: submit one, cancel one, retry one (API, editor and admin alike)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.exceptions import ErrorItem
from jobs.errors import JobStateConflict, QuotaExceeded
from jobs.models import RenderJob
from jobs.render import preset_output
from jobs.services.queue import job_enqueue, queue_check, rq_job_discard
from jobs.services.transitions import job_change, record_first_event
from projects.timeline import TimelineInvalid, timeline_duration, timeline_validate
from realtime import events as rt

logger = logging.getLogger("jobs.services")

Status = RenderJob.Status


def _active_job(project_id) -> RenderJob | None:
    return RenderJob.objects.active().filter(project_id=project_id).first()


def _job_create(*, project, user, timeline: dict, preset: str, size: tuple[int, int, float],
                retry_of: RenderJob | None = None) -> tuple[RenderJob, bool]:
    """Create and enqueue a job, or return the project's active one. Quota is checked under the user's row lock."""
    queue_check()
    width, height, fps = size
    try:
        with transaction.atomic():
            # Serialises one user's submits, so the active-job count below cannot be raced past the limit.
            get_user_model().objects.select_for_update().filter(pk=user.pk).first()
            active = _active_job(project.pk)
            if active is not None:
                return active, False
            running = RenderJob.objects.active().filter(owner=user).count()
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
            )
            record_first_event(job)
            transaction.on_commit(lambda: job_enqueue(job.id))
    except IntegrityError:
        # Another request created the project's active job between our check and insert (the partial
        # unique constraint `one_active_render_per_project` refused ours): answer with that job.
        active = _active_job(project.pk)
        if active is None:
            raise
        return active, False
    logger.info("job %s: submitted for project %s (preset %s, retry of %s)", job.id, project.pk, preset,
                retry_of.pk if retry_of else None)
    return job, True


def render_submit(*, project, user, preset: str) -> tuple[RenderJob, bool]:
    """Start rendering `project` with `preset`; returns (job, created).

    The project's PENDING/RUNNING job, if any, is returned instead of a new one (idempotent, race-safe).
    Raises TimelineInvalid, QuotaExceeded, QueueUnavailable.
    """
    active = _active_job(project.pk)
    if active is not None:
        return active, False
    timeline = timeline_validate(project.timeline, owner=user)
    if timeline_duration(timeline) <= 0:
        # Valid to save (an editor starts empty), but there is nothing to render.
        raise TimelineInvalid([ErrorItem(detail="the timeline is empty: add a clip before rendering",
                                         attr="timeline.tracks", code="empty")])
    return _job_create(project=project, user=user, timeline=timeline, preset=preset,
                       size=preset_output(preset, timeline))


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
