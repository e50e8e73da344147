"""Reads of jobs and their event log, for the API, snapshots, SSE replay and the admin."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from jobs.models import JobEvent, RenderJob
from jobs.serializers import job_representation
from realtime.events import event_snapshot

SNAPSHOT_LOG_SIZE = 50
# How far back a snapshot looks for distinct messages (progress events repeat messages a lot).
SNAPSHOT_LOG_SCAN = 1000


def _event_message(event: JobEvent) -> tuple[str, str]:
    payload = event.payload
    if event.type == "job.failed":
        return "FAILED", payload.get("error_message") or "The render failed."
    if event.type == "job.completed":
        return "DONE", "Render finished"
    if event.type == "job.canceled":
        return "CANCELED", "Canceled"
    return payload.get("phase") or "", payload.get("message") or ""


def job_log(*, job: RenderJob, limit: int = SNAPSHOT_LOG_SIZE) -> list[dict[str, Any]]:
    """The last `limit` distinct messages up to the current `seq`, oldest first: `[{"ts", "phase", "message"}]`."""
    seen: set[str] = set()
    newest_first: list[dict[str, Any]] = []
    events = JobEvent.objects.filter(job=job, seq__lte=job.last_seq).order_by("-seq")[:SNAPSHOT_LOG_SCAN]
    for event in events:
        phase, message = _event_message(event)
        if not message or message in seen:
            continue
        seen.add(message)
        newest_first.append({"ts": event.payload.get("ts"), "phase": phase, "message": message})
        if len(newest_first) >= limit:
            break
    return newest_first[::-1]


def job_snapshot(*, job: RenderJob) -> dict[str, Any]:
    """A `job.snapshot` event: the job representation, its current `seq` and its recent log."""
    job.refresh_from_db()
    return event_snapshot(job, job_repr=job_representation(job), log=job_log(job=job))


def job_events_after(*, job_id, seq: int) -> QuerySet[JobEvent]:
    """Stored events of a job with `seq` > N, in order (SSE replay after Last-Event-ID)."""
    return JobEvent.objects.filter(job_id=job_id, seq__gt=seq).order_by("seq")


def jobs_for_project(*, project, user) -> QuerySet[RenderJob]:
    return RenderJob.objects.visible_to(user).filter(project=project).order_by("-created_at")


def project_published_job(*, project) -> RenderJob | None:
    """The newest SUCCEEDED render of a project whose result is still kept."""
    return (
        RenderJob.objects.filter(project=project, status=RenderJob.Status.SUCCEEDED, result_purged_at__isnull=True)
        .exclude(result_file="")
        .order_by("-finished_at")
        .first()
    )
