"""Server-rendered pages for render jobs."""

from __future__ import annotations

urlpatterns: list = []
