"""Render-time checks of the input files: does each exist, does it open, what streams does it really hold.

The upload probe already ran, but files can vanish or rot between upload and render; finding that out
here gives an error naming the clip instead of an encoder failure halfway through. The checks run in
parallel (a few tens of milliseconds in all) under a timeout, with only the `file` protocol allowed.
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import imageio_ffmpeg

from jobs.render.errors import MediaMissing, MediaUnreadable
from jobs.render.plan import MediaFacts
from jobs.render.values import AssetSource

logger = logging.getLogger(__name__)

PROBE_TIMEOUT = 30.0
_ALPHA_FORMATS = ("rgba", "bgra", "argb", "abgr", "ya8", "ya16", "yuva", "gbrap", "pal8", "la")


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def clips_using(timeline: dict[str, Any], asset_id: str) -> list[str]:
    """Human names of the clips that use an asset: "clip c2 on track v1"."""
    return [
        f"clip {clip.get('id', '?')} on track {track.get('id', '?')}"
        for track in timeline.get("tracks") or []
        for clip in track.get("clips") or []
        if isinstance(clip, dict) and str(clip.get("asset_id")) == asset_id
    ]


def used_asset_ids(timeline: dict[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for track in timeline.get("tracks") or []:
        if track.get("kind") == "text":
            continue
        for clip in track.get("clips") or []:
            if isinstance(clip, dict) and clip.get("asset_id"):
                seen[str(clip["asset_id"])] = None
    return list(seen)


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_STREAM = re.compile(r"^\s*Stream #0:\d+.*?: (Video|Audio): (.*)$", re.MULTILINE)
_VIDEO = re.compile(r", ([a-z0-9_]+)(?:\([^)]*\))?, (\d+)x(\d+)")
_FPS = re.compile(r"([\d.]+) (?:fps|tbr)")


def _report(path: Path, timeout: float) -> str | None:
    """ffmpeg's description of an input (`ffmpeg -i FILE` with no output), or None if it would not open.

    The static ffmpeg answers in ~30 ms; Debian's dynamically linked ffprobe needs ~150 ms to start.
    """
    try:
        done = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", "-protocol_whitelist", "file", "-i", f"file:{path}"],
            capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    except subprocess.TimeoutExpired:
        return None
    text = done.stderr.decode(errors="replace")
    return text if "Input #0" in text else None


def _facts(asset: AssetSource, report: str | None) -> MediaFacts | None:
    if report is None:
        return None
    video = audio = None
    for kind, rest in _STREAM.findall(report):
        if kind == "Video" and video is None and "(attached pic)" not in rest:
            video = rest
        elif kind == "Audio" and audio is None:
            audio = rest
    if video is None and audio is None:
        return None
    duration = asset.duration
    if match := _DURATION.search(report):
        hours, minutes, seconds = match.groups()
        duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    width, height, fps, pix_fmt = asset.width, asset.height, asset.fps, ""
    if video is not None:
        if match := _VIDEO.search(video):
            pix_fmt, width, height = match.group(1), int(match.group(2)), int(match.group(3))
        if asset.kind != "image" and (match := _FPS.search(video)):
            fps = float(match.group(1)) or fps
    return MediaFacts(
        has_video=video is not None, has_audio=audio is not None, duration=duration, fps=fps,
        width=width, height=height, alpha=asset.kind == "image" and pix_fmt.startswith(_ALPHA_FORMATS),
    )


def media_check(timeline: dict[str, Any], assets: Mapping[str, AssetSource], *,
                timeout: float = PROBE_TIMEOUT) -> dict[str, MediaFacts]:
    """Facts for every asset the timeline uses, or MediaMissing / MediaUnreadable naming a clip."""
    wanted = used_asset_ids(timeline)
    for asset_id in wanted:
        asset = assets.get(asset_id)
        if asset is None or not asset.path or not Path(asset.path).is_file():
            where = ", ".join(clips_using(timeline, asset_id)) or "a clip"
            raise MediaMissing(f"{where}: the media file is missing.")
    to_probe: Iterable[str] = wanted
    with ThreadPoolExecutor(max_workers=4) as pool:
        probed = dict(zip(wanted, pool.map(lambda aid: _report(Path(assets[aid].path), timeout), to_probe),
                          strict=True))
    facts: dict[str, MediaFacts] = {}
    for asset_id in wanted:
        result = _facts(assets[asset_id], probed[asset_id])
        if result is None:
            logger.warning("asset %s did not open: %s", asset_id, (probed[asset_id] or "")[-500:])
            where = ", ".join(clips_using(timeline, asset_id)) or "a clip"
            raise MediaUnreadable(f"{where}: the media file cannot be read.")
        facts[asset_id] = result
    return facts
