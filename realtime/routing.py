"""WebSocket routes (CONTRACT §4); each answers with and without a trailing slash."""

from __future__ import annotations

from django.urls import path, re_path

from realtime.consumers import JobConsumer, OwnerJobsConsumer, UnknownPathConsumer

websocket_urlpatterns: list = [
    path("ws/jobs", OwnerJobsConsumer.as_asgi()),
    path("ws/jobs/", OwnerJobsConsumer.as_asgi()),
    path("ws/jobs/<uuid:job_id>", JobConsumer.as_asgi()),
    path("ws/jobs/<uuid:job_id>/", JobConsumer.as_asgi()),
    re_path(r"", UnknownPathConsumer.as_asgi()),  # last: a malformed id or unknown path closes 4404
]
