"""Pictures of an asset for people: a poster thumbnail and, for video, a filmstrip sprite for the timeline.

Both come from the configured ffmpeg (config/tools.py; by default the one bundled with imageio-ffmpeg),
opening the upload with the same locked-down input options as the probe. The thumbnail also proves the
file decodes: a video whose first picture cannot be decoded is refused at upload rather than failing a
render later.
"""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from config.even import even_round
from config.tools import ffmpeg_exe
from projects.errors import MediaUnreadable
from projects.probe import MediaProbe, ffmpeg_input_args, neutral_path

logger = logging.getLogger(__name__)

THUMBNAIL_WIDTH = 320
FILMSTRIP_FRAME_WIDTH = 160
WAVEFORM_SIZE = "320x90"


@dataclass(frozen=True)
class Previews:
    thumbnail: Path
    filmstrip: Path | None
    filmstrip_frames: int


def _ffmpeg(args: list[str], what: str) -> bool:
    try:
        done = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args],
            capture_output=True, timeout=settings.MEDIA_PROBE_TIMEOUT, check=False, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        logger.info("%s timed out", what)
        return False
    if done.returncode != 0:
        logger.info("%s failed: %s", what, done.stderr.decode(errors="replace")[-500:])
        return False
    return True


def _thumbnail(link: Path, probe: MediaProbe, out: Path) -> bool:
    if probe.kind == "audio":
        return _ffmpeg([*ffmpeg_input_args(link), "-filter_complex",
                        f"[0:a:0]showwavespic=s={WAVEFORM_SIZE}:split_channels=0:colors=0x4fc3f7",
                        "-frames:v", "1", str(out)], "waveform")
    scale = f"scale='min({THUMBNAIL_WIDTH},iw)':-2"
    if probe.kind == "image":
        return _ffmpeg([*ffmpeg_input_args(link), "-frames:v", "1", "-vf", scale, "-q:v", "4", str(out)],
                       "image thumbnail")
    # A tenth of the way in (at most 1 s) skips black leaders; fall back to the first frame for
    # clips too short or too oddly cut for the seek to land on a picture.
    moment = min(1.0, (probe.duration or 0) * 0.1)
    for seek in (moment, 0.0):
        ok = _ffmpeg(["-ss", f"{seek:.3f}", *ffmpeg_input_args(link), "-frames:v", "1", "-vf", scale, "-q:v", "4",
                      str(out)], "video thumbnail")
        if ok and out.exists() and out.stat().st_size > 0:
            return True
    return False


def _filmstrip(link: Path, probe: MediaProbe, out: Path, frames: int) -> bool:
    """`frames` pictures evenly across the clip, side by side in one JPEG.

    One input per picture, each with its own fast seek, so a long video costs `frames` short decodes
    instead of decoding the whole file.
    """
    duration = probe.duration or 0.0
    height = even_round(FILMSTRIP_FRAME_WIDTH * (probe.height or 9) / (probe.width or 16))
    args: list[str] = []
    chains = []
    for index in range(frames):
        moment = duration * (index + 0.5) / frames
        args += ["-ss", f"{moment:.3f}", *ffmpeg_input_args(link)]
        chains.append(f"[{index}:v:0]trim=end_frame=1,scale={FILMSTRIP_FRAME_WIDTH}:{height},setsar=1[f{index}]")
    joined = "".join(f"[f{index}]" for index in range(frames))
    graph = ";".join([*chains, f"{joined}hstack=inputs={frames}[strip]" if frames > 1 else "[f0]null[strip]"])
    return _ffmpeg([*args, "-filter_complex", graph, "-map", "[strip]", "-frames:v", "1", "-q:v", "5", str(out)],
                   "filmstrip")


def previews_make(source: Path, probe: MediaProbe, workdir: Path) -> Previews:
    """Write the thumbnail (and filmstrip for video) into `workdir`; MediaUnreadable if nothing decodes."""
    thumbnail = workdir / ("thumbnail.png" if probe.kind == "audio" else "thumbnail.jpg")
    with neutral_path(source) as link:
        if not _thumbnail(link, probe, thumbnail) or not thumbnail.exists():
            raise MediaUnreadable("The file could not be decoded: no picture or sound could be read from it.")
        filmstrip, frames = None, 0
        if probe.kind == "video":
            frames = settings.MEDIA_FILMSTRIP_FRAMES
            candidate = workdir / "filmstrip.jpg"
            # A missing filmstrip only makes the timeline plainer; it is no reason to refuse the upload.
            if _filmstrip(link, probe, candidate, frames) and candidate.exists():
                filmstrip = candidate
            else:
                frames = 0
    return Previews(thumbnail=thumbnail, filmstrip=filmstrip, filmstrip_frames=frames)



PROXY_MAX_HEIGHT = 480
PROXY_GOP = 12  # a keyframe every 12 frames: the preview seeks to any frame after at most 11 decodes
PROXY_TIMEOUT = 540.0  # under the `default` queue's 600 s job timeout


def proxy_make(source: Path, probe: MediaProbe, out: Path) -> bool:
    """A light H.264/AAC MP4 of a video for the editor's preview: at most 480 lines, short GOPs, faststart.

    A function of its own (the caller stores the file), so where files live can change around it.
    """
    height = even_round(min(PROXY_MAX_HEIGHT, probe.height or PROXY_MAX_HEIGHT))
    with neutral_path(source) as link:
        args = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *ffmpeg_input_args(link),
                "-map", "0:v:0", "-map", "0:a:0?", "-vf", f"scale=-2:{height},format=yuv420p",
                "-c:v", "libx264", "-preset", "veryfast", "-crf", "27", "-g", str(PROXY_GOP),
                "-keyint_min", str(PROXY_GOP), "-sc_threshold", "0", "-bf", "0", "-threads", "1",
                "-c:a", "aac", "-b:a", "96k", "-ac", "2", "-movflags", "+faststart", "-f", "mp4", str(out)]
        try:
            done = subprocess.run(args, capture_output=True, timeout=PROXY_TIMEOUT, check=False,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            logger.warning("proxy of %s timed out", source.name)
            return False
    if done.returncode != 0:
        logger.warning("proxy failed: %s", done.stderr.decode(errors="replace")[-500:])
        return False
    return out.exists() and out.stat().st_size > 0
