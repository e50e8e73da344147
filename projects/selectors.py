"""Reads across models for the projects app."""

from __future__ import annotations

from projects.models import MediaAsset, Project
from projects.timeline import timeline_asset_ids


def projects_using_asset(*, asset: MediaAsset) -> list[Project]:
    """The owner's projects whose timeline names the asset, newest first."""
    asset_id = str(asset.id)
    # The text match narrows the rows in SQL; the parsed check rules out an id that only appears in,
    # say, a title's text.
    candidates = Project.objects.filter(owner_id=asset.owner_id, timeline__icontains=asset_id).order_by("-updated_at")
    return [project for project in candidates if asset_id in timeline_asset_ids(project.timeline)]


def asset_usage(*, asset: MediaAsset) -> tuple[list[Project], int]:
    """Projects using the asset, and how many unfinished renders froze a timeline that uses it."""
    from jobs.models import RenderJob  # jobs depends on projects, not the other way round

    asset_id = str(asset.id)
    active = RenderJob.objects.filter(owner_id=asset.owner_id, status__in=RenderJob.ACTIVE_STATUSES,
                                      timeline__icontains=asset_id)
    renders = sum(1 for job in active.only("id", "timeline") if asset_id in timeline_asset_ids(job.timeline))
    return projects_using_asset(asset=asset), renders
