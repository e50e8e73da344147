"""Server-rendered pages for projects."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path

from projects.models import Project


@login_required
def project_list(request):
    projects = Project.objects.visible_to(request.user).order_by("-updated_at")
    return render(request, "projects/project_list.html", {"projects": projects})


urlpatterns = [
    path("", project_list, name="project-list"),
]
