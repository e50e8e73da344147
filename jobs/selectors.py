"""Reads of jobs and their event log, for the API, snapshots, SSE replay and the admin."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.timesince import timesince

from config.wire import job_thumbnail_url
from jobs.labels import STATUS_LABELS
from jobs.models import JobEvent, RenderJob
from jobs.representation import job_representation
from projects.models import Project
from projects.timeline import timeline_duration
from realtime.events import event_snapshot

SNAPSHOT_LOG_SIZE = 50
# How far back a snapshot looks for distinct messages (progress events repeat messages a lot).
SNAPSHOT_LOG_SCAN = 1000


def _event_message(event_type: str, payload: dict[str, Any]) -> tuple[str, str]:
    if event_type == "job.failed":
        return "FAILED", payload.get("error_message") or "The render failed."
    if event_type == "job.completed":
        return "DONE", "Render finished"
    if event_type == "job.canceled":
        return "CANCELED", "Canceled"
    return payload.get("phase") or "", payload.get("message") or ""


def log_from_events(
    newest_first_events: Iterable[tuple[str, dict[str, Any]]], *, limit: int = SNAPSHOT_LOG_SIZE
) -> list[dict[str, Any]]:
    """The snapshot log from `(type, payload)` pairs, newest first: the last `limit` distinct messages,
    oldest first, as `[{"ts", "phase", "message"}]`."""
    seen: set[str] = set()
    newest_first: list[dict[str, Any]] = []
    for event_type, payload in newest_first_events:
        phase, message = _event_message(event_type, payload)
        if not message or message in seen:
            continue
        seen.add(message)
        newest_first.append({"ts": payload.get("ts"), "phase": phase, "message": message})
        if len(newest_first) >= limit:
            break
    return newest_first[::-1]


def job_log(*, job: RenderJob, limit: int = SNAPSHOT_LOG_SIZE) -> list[dict[str, Any]]:
    """The last `limit` distinct messages up to the current `seq`, oldest first: `[{"ts", "phase", "message"}]`."""
    events = (
        JobEvent.objects.filter(job=job, seq__lte=job.last_seq)
        .order_by("-seq")
        .values_list("type", "payload")[:SNAPSHOT_LOG_SCAN]
    )
    return log_from_events(events, limit=limit)


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


@dataclass
class ProjectCard:
    project: Project
    duration: float
    last_job: RenderJob | None
    poster_url: str | None

    @property
    def updated_label(self) -> str:
        if timezone.now() - self.project.updated_at < timedelta(minutes=1):
            return "updated just now"
        return f"updated {timesince(self.project.updated_at)} ago"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.last_job.status, self.last_job.status) if self.last_job else ""


def project_cards(*, user) -> list[ProjectCard]:
    """The user's projects, newest first, each with its newest render and the newest render's poster."""
    jobs = RenderJob.objects.filter(project=OuterRef("pk")).order_by("-created_at")
    with_poster = jobs.filter(status=RenderJob.Status.SUCCEEDED, result_purged_at__isnull=True).exclude(poster="")
    projects = list(
        Project.objects.visible_to(user)
        .annotate(last_job_id=Subquery(jobs.values("id")[:1]), poster_job_id=Subquery(with_poster.values("id")[:1]))
        .order_by("-updated_at")
    )
    job_ids = {p.last_job_id for p in projects if p.last_job_id}
    last_jobs = RenderJob.objects.in_bulk(job_ids)
    return [
        ProjectCard(
            project=project,
            duration=timeline_duration(project.timeline),
            last_job=last_jobs.get(project.last_job_id),
            poster_url=job_thumbnail_url(project.poster_job_id) if project.poster_job_id else None,
        )
        for project in projects
    ]
