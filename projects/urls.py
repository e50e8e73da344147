"""API routes of the projects app, mounted under /api/ (every path with and without a trailing slash)."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from projects.api import AssetViewSet, ProjectViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # DRF 3.18's constructor only takes a bool; the attribute takes the pattern
router.register("projects", ProjectViewSet, basename="project")
router.register("assets", AssetViewSet, basename="asset")

urlpatterns = router.urls
