"""Job API routes. Every path answers with and without a trailing slash (no redirect).

`/api/jobs/{id}/events` is not here: it is the realtime app's SSE view, included after these.
"""

from __future__ import annotations

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from jobs.api import JobViewSet, ProjectRenderViewSet
from jobs.presets_api import presets_list

router = SimpleRouter()
router.trailing_slash = "/?"  # DRF 3.18's constructor only takes a bool; the attribute takes the pattern
router.register("jobs", JobViewSet, basename="api-job")

_uuid = r"(?P<project_id>[^/.]+)"  # any id: a malformed one is a JSON 404 from the view

urlpatterns = [
    re_path(r"^presets/?$", presets_list, name="api-presets"),
    re_path(
        rf"^projects/{_uuid}/renders/?$",
        ProjectRenderViewSet.as_view({"get": "list", "post": "create"}),
        name="project-renders",
    ),
    re_path(
        rf"^projects/{_uuid}/published/?$",
        ProjectRenderViewSet.as_view({"get": "published"}),
        name="project-published",
    ),
    *router.urls,
]
