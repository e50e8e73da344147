"""One exact frame of a timeline, for the editor's preview when it is paused (`GET .../still`).

The frame comes from the render package's own compiler (`plan_compile`), composited by the render package's
frame-by-frame compositor (compositor.py: the moviepy path, which test_paths_agree holds to the ffmpeg graph)
for that one frame only: the layers on screen then, each decoder seeked to its source time, every ramp,
keyframe and transition evaluated at that frame. So the cost does not grow with `t` (rendering the ffmpeg
graph from 0 and trimming did: 3.2 s at t=19 s), and what the editor shows as "exact" is what a render
produces. This module is the only coupling point between the editor and the renderer's internals; when the
renderer changes, only this file follows."""

from __future__ import annotations

import copy
import io
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from config.even import even_floor, even_round
from config.tools import ffmpeg_exe
from jobs.render.compiler import plan_compile
from jobs.render.errors import MediaUnreadable, RenderFailed, RenderTimeout
from jobs.render.media import media_check
from jobs.render.plan import RenderPlan
from jobs.render.values import AssetSource, finite_or

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
        plan = plan_compile(still_document(timeline, assets, at), assets, facts, "project", text_dir=work, threads=1)
        if plan.frames < 1:
            raise RenderFailed("The timeline is empty: there is no frame to show.")
        o = plan.output
        frame = still_frame_index(at, o.fps, plan.frames)
        out_w = even_floor(max(MIN_WIDTH, min(MAX_WIDTH, int(width))))
        out_h = even_round(out_w * o.height / o.width)
        picture = still_composite(plan, frame)
        image = Image.fromarray(np.ascontiguousarray(picture))
        if image.size != (out_w, out_h):
            image = image.resize((out_w, out_h), Image.Resampling.BICUBIC)
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=95)
        return buffer.getvalue()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def still_document(timeline: dict[str, Any], assets: Mapping[str, AssetSource], at: float) -> dict[str, Any]:
    """The timeline with only the titles and caption cues on screen near `at` left to draw.

    The compiler draws every title (an animated one as a series of images) and every caption cue as it plans:
    for one frame that is wasted work that grows with the document (a 5000-cue subtitles file, dozens of
    animated titles). A title off screen keeps its place with an empty text (the compiler skips drawing it but
    still counts it in the timeline's length); captions keep only their cues near `at` (a subtitles asset's
    cues are read here, offset applied). Within a frame of `at` on either side, so rounding never drops a
    layer the frame shows."""
    fps = finite_or((timeline.get("output") or {}).get("fps"), 30.0) or 30.0
    margin = 1.0 / min(fps, 60.0) + 1e-6

    def shows(start: float, end: float) -> bool:
        return start - margin <= at < end + margin

    document = copy.deepcopy(timeline)
    for track in document.get("tracks") or []:
        if not isinstance(track, dict):
            continue
        if track.get("kind") == "text":
            for clip in track.get("clips") or []:
                start = finite_or(clip.get("start"), 0.0) if isinstance(clip, dict) else 0.0
                if isinstance(clip, dict) and not shows(start, start + finite_or(clip.get("duration"), 1.0)):
                    clip["text"] = ""
        elif track.get("kind") == "captions":
            cues = track.get("cues") if isinstance(track.get("cues"), list) else _asset_cues(track, assets)
            if cues is None:
                continue  # unreadable: the compiler says so
            track.pop("asset_id", None)
            track.pop("offset", None)
            track["cues"] = [c for c in cues if isinstance(c, dict)
                             and shows(finite_or(c.get("start"), 0.0), finite_or(c.get("end"), 0.0))]
    return document


def _asset_cues(track: dict[str, Any], assets: Mapping[str, AssetSource]) -> list[dict[str, Any]] | None:
    from projects.subtitles import SubtitlesInvalid, subtitles_parse

    asset = assets.get(str(track.get("asset_id")))
    if asset is None or not asset.path or not Path(asset.path).is_file():
        return None
    try:
        cues = subtitles_parse(Path(asset.path).read_bytes(), "vtt" if Path(asset.path).suffix.lower() == ".vtt"
                               else "srt")
    except (SubtitlesInvalid, OSError):
        return None
    offset = finite_or(track.get("offset"), 0.0)
    return [{"start": c.start + offset, "end": c.end + offset, "text": c.text} for c in cues]


def still_composite(plan: RenderPlan, frame: int) -> np.ndarray:
    """Timeline frame `frame` of `plan` as RGB, composited as the moviepy path composites it.

    Only the layers on screen at that frame are opened, each decoder seeked straight to the layer's source
    time for it, and every ramp, keyframe and transition evaluated at that frame (motion.layer_state):
    the cost does not grow with the frame's time. test_paths_agree holds this compositing to the ffmpeg
    graph's (PSNR >= 30 dB); test_still holds the still to a real render's frame.
    """
    # moviepy is imported on the first still only (about half a second, once per process). Its config runs
    # `ffplay` once at import to see whether previews work; nothing here previews (as moviepy_path.py does).
    os.environ.setdefault("FFPLAY_BINARY", shutil.which("true") or "/bin/true")
    os.environ.setdefault("FFMPEG_BINARY", ffmpeg_exe())  # the configured ffmpeg for moviepy's readers
    from jobs.render.compositor import Interval, LayerSource, SourceUnreadable

    o = plan.output
    background = np.empty((o.height, o.width, 3), dtype=np.uint8)
    background[:] = o.background
    sources = []
    for layer in plan.layers:
        if layer.start <= frame < layer.end:
            source = LayerSource(layer, plan, background)
            source.first_frame = frame
            sources.append(source)
    expired = threading.Event()

    def expire() -> None:
        # A stuck decoder blocks its pipe read: killing it ends the read (and the frame) with an error.
        expired.set()
        for source in sources:
            reader = source.reader
            if reader is not None and reader.proc is not None and reader.proc.poll() is None:
                reader.proc.kill()

    watchdog = threading.Timer(STILL_TIMEOUT, expire)
    watchdog.daemon = True
    watchdog.start()
    try:
        return Interval(frame, frame + 1, sources).frame(frame, background).copy()
    except SourceUnreadable as exc:
        if expired.is_set():
            raise RenderTimeout("Making the preview frame took too long.") from None
        layer = exc.layer
        logger.error("still frame: clip %s on track %s unreadable: %r", layer.clip_id, layer.track_id, exc.__cause__)
        raise MediaUnreadable(f"clip {layer.clip_id} on track {layer.track_id}: the media file cannot be read.") \
            from exc
    except Exception:
        if expired.is_set():
            raise RenderTimeout("Making the preview frame took too long.") from None
        logger.exception("still frame failed at frame %s", frame)
        raise RenderFailed("The preview frame could not be made.") from None
    finally:
        watchdog.cancel()
        for source in sources:
            source.close()


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
