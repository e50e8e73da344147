"""Server-rendered pages for projects: the project list and the editor.

The pages render the shell and what a first paint needs; everything they change goes through the
REST API from the page's JavaScript modules (projects/static/cutline/js/), as any SPA client would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone
from django.utils.timesince import timesince
from django.views.decorators.csrf import ensure_csrf_cookie

from jobs.models import RenderJob
from jobs.serializers import job_thumbnail_url
from projects.models import Project
from projects.timeline import timeline_duration

PRESET_LABELS = {
    RenderJob.Preset.DRAFT: "Draft (fast, small)",
    RenderJob.Preset.HD: "HD 720p",
    RenderJob.Preset.FULL_HD: "Full HD 1080p",
    RenderJob.Preset.PROJECT: "Project settings",
}
STATUS_LABELS = {
    RenderJob.Status.PENDING: "Waiting",
    RenderJob.Status.RUNNING: "Rendering",
    RenderJob.Status.SUCCEEDED: "Done",
    RenderJob.Status.FAILED: "Failed",
    RenderJob.Status.CANCELED: "Canceled",
}


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


@login_required
@ensure_csrf_cookie
def project_list(request: HttpRequest) -> HttpResponse:
    return render(request, "projects/project_list.html", {"cards": project_cards(user=request.user)})


@login_required
@ensure_csrf_cookie
def project_editor(request: HttpRequest, project_id) -> HttpResponse:
    # Another user's project answers 404, exactly like the API: existence is not revealed.
    project = get_object_or_404(Project.objects.visible_to(request.user), pk=project_id)
    config: dict[str, Any] = {
        "project_id": str(project.id),
        "project_name": project.name,
        "max_upload_mb": settings.MEDIA_MAX_UPLOAD_MB,
    }
    return render(
        request,
        "projects/editor.html",
        {"project": project, "editor_config": config, "presets": list(PRESET_LABELS.items())},
    )


urlpatterns = [
    path("", project_list, name="project-list"),
    path("projects/<uuid:project_id>/", project_editor, name="project-editor"),
]
