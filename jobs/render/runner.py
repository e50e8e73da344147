"""`render_timeline`: the one entry point the job task, the management commands and the tests call."""

from __future__ import annotations

import contextvars
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings

from config.tools import ffmpeg_exe
from jobs.render.compiler import plan_compile
from jobs.render.errors import RenderFailed, RenderTimeout
from jobs.render.ffmpeg_graph import render_with_ffmpeg
from jobs.render.formats import format_get
from jobs.render.media import media_check
from jobs.render.moviepy_path import render_with_moviepy
from jobs.render.plan import RenderPlan
from jobs.render.procs import run_quiet
from jobs.render.progress import ENCODE, FINALIZE, PREPARE, RenderMonitor
from jobs.render.segments import (
    render_segmented,
    segmented_refine,
    segmented_suits,
    segmented_why,
    segments_force_keys,
    segments_store,
)
from jobs.render.values import AssetSource, Progress, RenderResult
from projects.subtitles import Cue, subtitles_to_srt, subtitles_to_vtt

logger = logging.getLogger(__name__)

PATHS = ("auto", "ffmpeg", "moviepy", "segmented")
# One ffmpeg process opens every input at once; past this many pictures the compositor, which opens
# each source only while its clip plays, is the safer choice for memory and file handles.
FFMPEG_MAX_INPUTS = 48
# ...and it keeps every picture input's decoder and queued frames for the whole run: measured ~24 MB per
# input at 720p and ~63 MB at 1080p (≈ 30 bytes per output pixel), so a 48-clip 720p timeline peaked at
# 1.5 GB and 24 clips at 1080p at 1.7 GB. The auto path keeps the ffmpeg graph to what fits this budget
# beside the encoder and the worker (the bound we hold: 1 GiB for the process tree; docs/rendering.md).
FFMPEG_INPUTS_BUDGET = 600 * 2**20
FFMPEG_BYTES_PER_INPUT_PIXEL = 30
POSTER_TIMEOUT = 60.0


def path_choose(requested: str, plan: RenderPlan) -> str:
    """The render path for a plan: "ffmpeg", "moviepy" or "segmented" ("auto": segmented when that skips work,
    smart cuts or cached segments or idle workers; else one ffmpeg graph while its inputs fit the memory budget)."""
    if requested not in PATHS:
        raise RenderFailed(f"Unknown render path {requested!r}; use one of {', '.join(PATHS)}.")
    if requested != "auto":
        return requested
    pixels = plan.output.width * plan.output.height
    most = min(FFMPEG_MAX_INPUTS, max(4, FFMPEG_INPUTS_BUDGET // (FFMPEG_BYTES_PER_INPUT_PIXEL * pixels)))
    if plan.video_inputs() > most:
        return "moviepy"
    return "segmented" if segmented_suits(plan) else "ffmpeg"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _poster(video: Path, poster: Path, plan: RenderPlan, work: Path) -> None:
    """A JPEG of the frame at 10 % of the duration (seeking on the input side: no full decode)."""
    at = plan.poster_frame / plan.output.fps
    # A still has one frame, and GIF seeking is unreliable: their first frame is the poster.
    seek = ["-ss", f"{at:.6f}"] if plan.output.format not in ("png", "gif") else []
    code = run_quiet(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *seek,
         "-i", str(video), "-frames:v", "1", "-q:v", "3", "-update", "1", str(poster)],
        timeout=POSTER_TIMEOUT, log_path=work / "poster.log",
    )
    if code != 0 or not poster.exists():
        raise RenderFailed("The poster frame could not be extracted from the rendered video.")


def _store(encoded: Path, plan: RenderPlan, segments: list, work: Path) -> None:
    stored = segments_store(encoded, plan, segments, work)
    logger.info("single graph: %s of %s segments stored in the cache", stored, len(segments))


def _captions_write(plan: RenderPlan, out_path: Path) -> tuple[Path | None, Path | None]:
    """`captions.vtt` and `captions.srt` beside the result: the cues the render burned in, as players want them."""
    if plan.captions is None:
        return None, None
    cues = [Cue(c["start"], c["end"], c["text"]) for c in plan.captions]
    vtt, srt = out_path.with_name("captions.vtt"), out_path.with_name("captions.srt")
    vtt.write_text(subtitles_to_vtt(cues), encoding="utf-8")
    srt.write_text(subtitles_to_srt(cues), encoding="utf-8")
    return vtt, srt


def render_timeline(
    timeline: dict[str, Any],
    assets: Mapping[str, AssetSource],
    preset: str,
    out_path: Path,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    path: str | None = None,
    timeout: float | None = None,
) -> RenderResult:
    """Render a validated timeline document to an MP4 at `out_path`, its poster JPEG beside it.

    `path`: "auto" (default: settings.RENDER_PATH), "ffmpeg" or "moviepy". `timeout` in seconds
    (default: settings.RENDER_JOB_TIMEOUT). Raises MediaMissing, MediaUnreadable, RenderFailed,
    RenderTimeout or RenderCanceled (jobs.render.errors); on every exit the temporary directory is
    removed and no encoder or decoder process is left running.
    """
    requested = path or settings.RENDER_PATH
    monitor = RenderMonitor(on_progress, should_cancel,
                            timeout=settings.RENDER_JOB_TIMEOUT if timeout is None else timeout)
    out_path = Path(out_path)
    fmt = format_get((timeline.get("output") or {}).get("format"))
    # The result's extension follows the format (render.mp4 → render.webm, ...).
    out_path = out_path.with_suffix(fmt.extension)
    if fmt.name == "mp4_hevc":
        out_path = out_path.with_name(f"{out_path.stem}-hevc{fmt.extension}")  # told apart from H.264 by name
    out_path.parent.mkdir(parents=True, exist_ok=True)
    poster_out = out_path.with_suffix(".jpg")
    # Scratch space next to the output: same file system for the final rename, and the job's work
    # directory appears in every encoder's command line (the worker's clean-up looks for it).
    work = Path(tempfile.mkdtemp(prefix=".render-", dir=out_path.parent))
    storing: threading.Thread | None = None  # the segments of a single graph's output going into the cache
    try:
        monitor.report(PREPARE, 0.0, "Checking the media files")
        monitor.check(force=True)
        facts = media_check(timeline, assets)
        monitor.report(PREPARE, 2.0, "Planning the render")
        plan = plan_compile(timeline, assets, facts, preset, text_dir=work, threads=settings.RENDER_THREADS)
        chosen = path_choose(requested, plan)
        if chosen == "segmented" and fmt.name != "mp4":
            chosen = "ffmpeg"  # segments are joined as H.264: other formats keep the single graph
        # The log says which strategy and why; a single graph may fill the segment cache for the next render.
        known = {str(a.path): a.sha256 for a in assets.values() if a.sha256}
        why = segmented_why(plan, requested, chosen)
        to_store: list = []
        if requested == "auto" and chosen == "segmented":
            chosen, why, to_store = segmented_refine(plan, known)
            to_store = to_store if chosen == "ffmpeg" else []
        o = plan.output
        logger.info("render strategy %s: %s", chosen, why)
        monitor.report(PREPARE, 5.0, f"Rendering {plan.frames} frames at {o.width}×{o.height} ({chosen}: {why})")
        monitor.check(force=True)

        encoded, poster = work / f"render{fmt.extension}", work / "poster.jpg"
        if chosen == "segmented":
            report = render_segmented(plan, encoded, work, monitor, known_hashes=known, smart=settings.RENDER_SMART)
            chosen = "smart" if report.smart else "segmented"
            logger.info("segmented render: %s", report)
            monitor.report(ENCODE, 95.0, report.summary())
        elif chosen == "ffmpeg":
            render_with_ffmpeg(plan, encoded, work, monitor, extra_args=segments_force_keys(plan, to_store))
            if to_store:
                # Cut into the cache beside the poster and the checksum (it only reads the finished file). The
                # thread runs in this context: a cache namespace (segment_cache.cache_namespace) holds there too.
                storing = threading.Thread(target=contextvars.copy_context().run,
                                           args=(_store, encoded, plan, to_store, work), daemon=True)
                storing.start()
        else:
            render_with_moviepy(plan, encoded, poster, work, monitor)  # in the asked format directly
        monitor.check(force=True)

        monitor.report(FINALIZE, 95.0, "Making the poster frame")
        if fmt.has_video and not poster.exists():
            _poster(encoded, poster, plan, work)
        elif not fmt.has_video:
            poster.unlink(missing_ok=True)  # sound only: no picture to show
        if not encoded.is_file() or encoded.stat().st_size == 0:
            raise RenderFailed("The encoder produced no video.")
        monitor.report(FINALIZE, 97.0, "Computing the checksum")
        sha256 = _sha256(encoded)
        size = encoded.stat().st_size
        if storing is not None:
            storing.join()
        os.replace(encoded, out_path)
        if poster.exists():
            os.replace(poster, poster_out)
        sidecars = _captions_write(plan, out_path)
        monitor.report(FINALIZE, 100.0, "Done")
        return RenderResult(
            path=out_path, poster_path=poster_out, duration=0.0 if fmt.still else round(plan.duration, 6),
            size_bytes=size, width=o.width if fmt.has_video else 0, height=o.height if fmt.has_video else 0,
            fps=o.fps, sha256=sha256, render_path=chosen, captions_vtt=sidecars[0], captions_srt=sidecars[1],
        )
    except subprocess.TimeoutExpired:
        raise RenderTimeout("A step of the render stopped answering.") from None
    finally:
        if storing is not None:
            storing.join()  # it reads and writes inside `work`
        shutil.rmtree(work, ignore_errors=True)
