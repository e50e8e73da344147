"""Included under `/api/` after `jobs.urls`; every path answers with and without a trailing slash."""

from __future__ import annotations

from django.urls import path, re_path

from realtime.sse import job_events
from realtime.views import realtime_ticket

urlpatterns: list = [
    path("jobs/<uuid:job_id>/events", job_events, name="job-events"),
    path("jobs/<uuid:job_id>/events/", job_events),
    re_path(r"^realtime/ticket/?$", realtime_ticket, name="realtime-ticket"),
]
