"""The segmented path: the plan cut into a few seconds' segments, each encoded once and cached, then joined.

The modules live in render.py for now; this package re-exports its names.
"""

from __future__ import annotations

from jobs.render.segments.render import (
    MUX_TIMEOUT,
    PART_POLL,
    Segment,
    SegmentedReport,
    audio_encode,
    content_hash,
    cut_allowed,
    plan_slice,
    render_segmented,
    run_ffmpeg,
    segment_encode,
    segment_key,
    segmented_refine,
    segmented_suits,
    segmented_why,
    segments_force_keys,
    segments_join,
    segments_plan,
    segments_split,
    segments_store,
    video_encoder_args,
)

# Bump whenever a change to the renderer changes the pixels or the bitstream of a segment. It lives here, on
# the package, and segment_key reads it from here when called, so there is one place to bump (or patch).
RENDERER_VERSION = "1"

__all__ = [
    "MUX_TIMEOUT", "PART_POLL", "RENDERER_VERSION", "Segment", "SegmentedReport", "audio_encode", "content_hash",
    "cut_allowed", "plan_slice", "render_segmented", "run_ffmpeg", "segment_encode", "segment_key",
    "segmented_refine", "segmented_suits", "segmented_why", "segments_force_keys", "segments_join",
    "segments_plan", "segments_split", "segments_store", "video_encoder_args",
]
