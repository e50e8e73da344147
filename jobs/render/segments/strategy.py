"""Whether "auto" renders segment by segment or as one graph, and the line for the job log that says why."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from jobs.render import segment_cache
from jobs.render.errors import RenderFailed
from jobs.render.plan import RenderPlan
from jobs.render.segments.slicing import Segment, segments_plan


def segmented_suits(plan: RenderPlan) -> bool:
    """Whether "auto" renders segment by segment: H.264 MP4 of at least two segments, cache or smart render on.

    A shorter render is one segment anyway: the single graph does the same work without the extra sound pass
    and join.
    """
    long_enough = plan.frames >= 2 * settings.RENDER_SEGMENT_SECONDS * plan.output.fps
    return plan.output.format == "mp4" and long_enough and (settings.RENDER_SEGMENT_CACHE_MB > 0
                                                             or settings.RENDER_SMART)


def segmented_refine(plan: RenderPlan, known_hashes: dict[str, str] | None = None) -> tuple[str, str, list[Segment]]:
    """For "auto" on a plan segmented_suits: ("segmented" | "ffmpeg", why, the plain segments).

    The segmented path wins when it has something to skip: stream-copyable cuts, segments already in the
    cache, or idle workers to share the encode. Otherwise one graph is fastest, and the runner stores its
    output's segments in the cache (keyframes forced at the cuts) so that the next render can skip them.
    """
    from jobs.render import smart as smart_render

    segments = segments_plan(plan, known_hashes=known_hashes)
    if settings.RENDER_SMART:
        try:
            _, sources, _ = smart_render.smart_prepare(plan, Path("."))
        except RenderFailed:
            sources = {}  # a source ffprobe cannot read is no candidate; the render itself will say more
        if sources and smart_render.smart_copies(plan, sources):
            return "segmented", "plain cuts of matching H.264 sources are stream-copied (smart render)", segments
    hits = sum(1 for segment in segments if segment_cache.cache_has(segment.key))
    if hits:
        return "segmented", f"{hits} of {len(segments)} segments are already in the cache", segments
    idle = _idle_workers()
    if idle:
        return "segmented", f"{idle} idle worker(s) can share the {len(segments)} segments", segments
    why = "nothing to skip and no idle worker: one graph is fastest; its segments are stored in the cache"
    return "ffmpeg", why, segments


def _idle_workers() -> int:
    try:
        from jobs.services import parts
    except ImportError:
        return 0
    if parts.parts_parent() is None:
        return 0
    return parts.idle_workers()


def segmented_why(plan: RenderPlan, requested: str, chosen: str) -> str:
    """One line for the job log: why this strategy."""
    if requested != "auto":
        return f"the {requested} path was asked for"
    if chosen == "moviepy":
        return "too many pictures for one ffmpeg graph"
    if chosen == "segmented":
        return ("segments already encoded are reused from the cache, plain cuts of matching H.264 sources are "
                "stream-copied, the rest is encoded")
    if plan.output.format != "mp4":
        return f"{plan.output.format} is encoded as one graph (segments join only as H.264)"
    if plan.frames < 2 * settings.RENDER_SEGMENT_SECONDS * plan.output.fps:
        return "shorter than two segments: one graph does it without a separate sound pass and join"
    return "the segment cache and smart render are switched off"
