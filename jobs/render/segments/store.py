"""A single-graph render's segments for the cache: keyframes forced at the cuts, the output cut there by stream
copy and each piece stored under its segment's key."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

from config.tools import ffmpeg_exe
from jobs.render import segment_cache
from jobs.render.plan import RenderPlan
from jobs.render.procs import run_quiet
from jobs.render.segments.join import MUX_TIMEOUT
from jobs.render.segments.slicing import Segment

logger = logging.getLogger(__name__)


def segments_force_keys(plan: RenderPlan, segments: list[Segment]) -> list[str]:
    """Output options that put a keyframe on every segment's first frame (half a frame early: ffmpeg keys
    the first frame at or after each time)."""
    fps = plan.output.fps
    times = [f"{(s.start - 0.5) / fps:.6f}" for s in segments if s.start > 0]
    return ["-force_key_frames", ",".join(times)] if times else []


def segments_store(encoded: Path, plan: RenderPlan, segments: list[Segment], work: Path) -> int:
    """Cut a finished single-graph MP4 at its forced keyframes (stream copy) and cache each segment."""

    if not segment_cache.cache_enabled() or len(segments) < 2:
        return 0
    try:
        return _segments_store(encoded, plan, segments, work)
    except Exception:
        # The render itself is done and good: a cache that could not be filled costs the next render only.
        logger.warning("segments of a single-graph render could not be cached", exc_info=True)
        return 0


def _segments_store(encoded: Path, plan: RenderPlan, segments: list[Segment], work: Path) -> int:
    # Two processes whatever the number of segments: one lists the keyframes (smart.packet_list), one stream
    # copy cuts the file at those of them that start a segment (the segment muxer counts video packets; with
    # closed GOPs an IDR's place in decode order is its frame number). A segment whose first or last frame the
    # encoder did not key stays whole with its neighbour in one piece, which is not stored.
    from jobs.render import smart as smart_render

    entries = sorted(smart_render.packet_list(encoded)[1])
    keys = {index for index, (_, key) in enumerate(entries) if key}
    if len(entries) != plan.frames:
        return 0
    cuts = [s.start for s in segments[1:] if s.start in keys]
    folder = work / "store"
    folder.mkdir(exist_ok=True)
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(encoded),
            "-map", "0:v:0", "-c", "copy", "-an", "-sn", "-dn", "-f", "segment", "-segment_format", "mp4",
            "-reset_timestamps", "1"]
    if cuts:
        args += ["-segment_frames", ",".join(str(frame) for frame in cuts)]
    code = run_quiet([*args, str(folder / "piece%05d.mp4")], timeout=MUX_TIMEOUT, log_path=work / "store.log")
    if code != 0:
        logger.warning("segments of a single-graph render could not be cut: %s",
                       (work / "store.log").read_text(errors="replace")[-2000:])
        return 0
    bounds = [0, *cuts, plan.frames]
    by_start = {s.start: s for s in segments}
    stored = 0
    for index, (a, b) in enumerate(itertools.pairwise(bounds)):
        segment = by_start.get(a)
        path = folder / f"piece{index:05d}.mp4"
        if segment is not None and segment.end == b and path.is_file():
            segment_cache.cache_put(segment.key, path)
            stored += 1
    return stored
