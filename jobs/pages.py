"""Server-rendered pages for render jobs: the user's renders across projects, live over /ws/jobs."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.csrf import ensure_csrf_cookie

from jobs.labels import STATUS_LABELS
from projects.models import Project


@login_required
@ensure_csrf_cookie
def job_list(request: HttpRequest) -> HttpResponse:
    # Names for the rows the page draws from the API (a job carries only its project's id).
    names = {str(pk): name for pk, name in Project.objects.visible_to(request.user).values_list("pk", "name")}
    return render(
        request,
        "jobs/job_list.html",
        {"project_names": names, "statuses": list(STATUS_LABELS.items())},
    )


urlpatterns = [
    path("jobs/", job_list, name="job-list"),
]
