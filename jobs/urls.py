"""Job API routes. Every path answers with and without a trailing slash (no redirect).

`/api/jobs/{id}/events` is not here: it is the realtime app's SSE view, included after these.
"""

from __future__ import annotations

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from jobs import catalog_api
from jobs.api import JobViewSet, ProjectRenderViewSet
from jobs.webhooks.api import WebhookDeliveryViewSet, WebhookEndpointViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # DRF 3.18's constructor only takes a bool; the attribute takes the pattern
router.register("jobs", JobViewSet, basename="api-job")
router.register("webhooks", WebhookEndpointViewSet, basename="api-webhook")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="api-webhook-delivery")

_uuid = r"(?P<project_id>[^/.]+)"  # any id: a malformed one is a JSON 404 from the view

urlpatterns = [
    re_path(r"^fonts/?$", catalog_api.fonts, name="api-fonts"),
    re_path(r"^presets/?$", catalog_api.presets, name="api-presets"),
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
