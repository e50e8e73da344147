"""Server-rendered pages for projects: the project list and the editor.

The pages render the shell and what a first paint needs; everything they change goes through the
REST API from the page's JavaScript modules (projects/static/cutline/js/), as any SPA client would.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.views.decorators.csrf import ensure_csrf_cookie

from jobs.labels import PRESET_LABELS
from jobs.selectors import project_cards
from projects.models import Project


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
