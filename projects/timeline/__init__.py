"""The timeline document (CONTRACT.md §2): constants, reads, and validation into canonical form."""

from __future__ import annotations

from projects.timeline.document import (
    SCHEMA_VERSION,
    clip_length,
    timeline_asset_ids,
    timeline_clip_count,
    timeline_duration,
    timeline_empty,
)
from projects.timeline.validate import TimelineInvalid, timeline_validate

__all__ = [
    "SCHEMA_VERSION",
    "TimelineInvalid",
    "clip_length",
    "timeline_asset_ids",
    "timeline_clip_count",
    "timeline_duration",
    "timeline_empty",
    "timeline_validate",
]
