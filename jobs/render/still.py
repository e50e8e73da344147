"""One exact frame of a timeline, for the editor's preview when it is paused (`GET .../still`).

The frame comes from the render package's own compiler (`plan_compile`) and ffmpeg graph builder
(`FilterGraph.build_video`): the same compositing as a render, cut to one frame and scaled, so what the
editor shows as "exact" is what a render would produce. This module is the only coupling point between
the editor and the renderer's internals; when the renderer changes (schema 2), only this file follows.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jobs.render.compiler import plan_compile
from jobs.render.errors import RenderFailed, RenderTimeout
from jobs.render.ffmpeg_graph import FilterGraph
from jobs.render.formats import format_get
from jobs.render.media import ffmpeg_exe, media_check
from jobs.render.procs import run_quiet
from jobs.render.values import AssetSource

logger = logging.getLogger(__name__)

STILL_TIMEOUT = 60.0
MIN_WIDTH, MAX_WIDTH = 16, 1920


def still_frame_index(at: float, fps: float, frames: int) -> int:
    """The frame on screen at timeline time `at` (frames are shown from their start time)."""
    return min(max(0, frames - 1), max(0, int(at * fps + 1e-6)))


def still_render(timeline: dict[str, Any], assets: Mapping[str, AssetSource], *, at: float, width: int) -> bytes:
    """A JPEG of the frame at `at` seconds, `width` pixels wide (height keeps the output's aspect).

    Raises MediaMissing / MediaUnreadable (a clip's file), RenderFailed or RenderTimeout.
    """
    work = Path(tempfile.mkdtemp(prefix="cutline-still-"))
    try:
        facts = media_check(timeline, assets)
        plan = plan_compile(timeline, assets, facts, "project", text_dir=work, threads=1)
        if plan.frames < 1:
            raise RenderFailed("The timeline is empty: there is no frame to show.")
        o = plan.output
        frame = still_frame_index(at, o.fps, plan.frames)
        out_w = max(MIN_WIDTH, min(MAX_WIDTH, int(width))) // 2 * 2
        out_h = max(2, round(out_w * o.height / o.width / 2) * 2)
        graph = FilterGraph(plan)
        video = graph.build_video(format_get("mp4"))  # yuv420p, as an MP4 render draws it
        graph.chains.append(f"[{video}]trim=start_frame={frame}:end_frame={frame + 1},setpts=PTS-STARTPTS,"
                            f"scale={out_w}:{out_h}:flags=bicubic,format=yuvj420p[still]")
        graph_path = work / "still-graph.txt"
        graph_path.write_text(";\n".join(graph.chains))
        out = work / "still.jpg"
        args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
        for item in graph.inputs:
            args += item
        args += ["-/filter_complex", str(graph_path), "-map", "[still]", "-frames:v", "1", "-q:v", "2",
                 "-update", "1", str(out)]
        try:
            code = run_quiet(args, timeout=STILL_TIMEOUT, log_path=work / "still.log")
        except subprocess.TimeoutExpired:
            raise RenderTimeout("Making the preview frame took too long.") from None
        if code != 0 or not out.is_file() or out.stat().st_size == 0:
            log = (work / "still.log").read_text(errors="replace")[-2000:] if (work / "still.log").exists() else ""
            logger.error("still frame failed (exit %s): %s", code, log)
            raise RenderFailed("The preview frame could not be made.")
        return out.read_bytes()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def still_sources(timeline: dict[str, Any], owner_id: Any, *, work_dir: Path) -> dict[str, AssetSource]:
    """AssetSource for each asset the timeline uses: in place on local storage, else fetched from object
    storage into `work_dir` (through this machine's input cache, as a worker does)."""
    from jobs.input_cache import input_fetch
    from jobs.render.errors import MediaMissing
    from jobs.render.media import clips_using
    from projects.models import MediaAsset
    from projects.timeline import timeline_asset_ids

    wanted = timeline_asset_ids(timeline)
    rows = {str(a.id): a for a in MediaAsset.objects.filter(id__in=wanted, owner_id=owner_id)}
    sources: dict[str, AssetSource] = {}
    for asset_id in sorted(wanted):
        asset = rows.get(asset_id)
        if asset is None or not asset.file:
            where = ", ".join(clips_using(timeline, asset_id)) or "a clip"
            raise MediaMissing(f"{where}: the media file is missing (the asset was deleted).")
        suffix = Path(asset.file.name).suffix
        try:
            path = input_fetch(name=asset.file.name, sha256=asset.sha256, suffix=suffix,
                               destination=work_dir / f"{asset_id}{suffix}")
        except FileNotFoundError:
            path = work_dir / f"{asset_id}{suffix}"  # the renderer names the clips whose file is missing
        sources[asset_id] = AssetSource(
            asset_id=asset_id, path=path, kind=asset.kind, duration=asset.duration, width=asset.width,
            height=asset.height, fps=asset.fps, has_audio=asset.has_audio, name=asset.name,
        )
    return sources
