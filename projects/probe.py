"""What an uploaded file really is: ffprobe under a timeout, locked down to local files and a container allowlist.

Uploads are hostile until proven otherwise. Three walls keep a crafted file from making the server
fetch or read anything else:

1. The first bytes are sniffed before any ffmpeg code runs: playlists and lists of files (HLS `#EXTM3U`,
   ffconcat, DASH/SMIL XML, PLS) and plain text are refused outright.
2. ffprobe runs with `-protocol_whitelist file` and `-format_whitelist <allowlist>`, so a demuxer that
   opens other URLs (hls, concat, ...) is refused by ffmpeg itself.
3. The file is opened through a symlink without an extension (`.../media`), so the demuxer is chosen by
   content, never by a name the uploader picked (`x.m3u8`, `%d.jpg` image sequences).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from config.tools import ffprobe_exe
from projects.errors import MediaUnreadable, ProbeUnavailable

logger = logging.getLogger(__name__)

# ffmpeg demuxer names we accept, and the container name we store for each.
DEMUXERS = {
    "mov": "mp4", "mp4": "mp4", "m4a": "m4a",
    "matroska": "mkv", "webm": "webm",
    "mp3": "mp3", "aac": "aac", "wav": "wav", "ogg": "ogg", "flac": "flac",
    "png_pipe": "png", "jpeg_pipe": "jpeg", "webp_pipe": "webp",
}
FORMAT_WHITELIST = ",".join(DEMUXERS)
IMAGE_DEMUXERS = {"png_pipe", "jpeg_pipe", "webp_pipe"}

CONTENT_TYPES = {
    "mp4": "video/mp4", "mov": "video/quicktime", "m4v": "video/x-m4v", "m4a": "audio/mp4",
    "mkv": "video/x-matroska", "webm": "video/webm", "mp3": "audio/mpeg", "aac": "audio/aac",
    "wav": "audio/wav", "ogg": "audio/ogg", "flac": "audio/flac",
    "png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp",
    "srt": "application/x-subrip; charset=utf-8", "vtt": "text/vtt; charset=utf-8",
}
EXTENSIONS = {"jpeg": ".jpg", "mkv": ".mkv"}

# Sizes beyond 16K are not footage, they are an attempt to make the thumbnailer allocate gigabytes.
MAX_DIMENSION = 16384
SNIFF_BYTES = 4096
_PLAYLIST_MARKERS = (b"#EXTM3U", b"#EXT-X-", b"#EXTINF", b"ffconcat", b"file '", b"file \"", b"[playlist]",
                     b"<?xml", b"<MPD", b"<smil", b"<asx", b"<ASX", b"RTSPtext", b"v=0\n", b"v=0\r\n")


@dataclass(frozen=True)
class MediaProbe:
    kind: str  # video | audio | image
    container: str
    format_name: str
    duration: float | None
    width: int | None
    height: int | None
    fps: float | None
    has_audio: bool
    video_codec: str
    audio_codec: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaProbe:
        return cls(**{name: data.get(name) for name in cls.__dataclass_fields__})

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(self.container, "application/octet-stream")

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.container, f".{self.container}")


def sniff_refusal(head: bytes) -> str | None:
    """Why the first bytes of a file already show it is not media we accept, or None."""
    if not head:
        return "The file is empty."
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if any(stripped.startswith(marker) for marker in _PLAYLIST_MARKERS) or b"#EXTM3U" in head[:1024]:
        return "This is a playlist or a list of other files, not media. Upload the audio or video file itself."
    if _looks_like_text(head):
        return "This is a text file, not audio, video or an image."
    return None


def _looks_like_text(head: bytes) -> bool:
    # Every accepted container starts with binary magic (ftyp boxes, EBML, RIFF sizes, 0xFF sync words,
    # the PNG signature), so a head of printable characters is a text file whatever its name says.
    sample = head[:SNIFF_BYTES]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = sample[:-3].decode("utf-8")  # a multi-byte character cut at the sample's end
        except UnicodeDecodeError:
            return False
    return all(ch.isprintable() or ch in "\t\r\n\f" for ch in text)


@contextlib.contextmanager
def neutral_path(path: Path) -> Iterator[Path]:
    """`path` reachable under a name without an extension, so ffmpeg picks the demuxer by content."""
    with tempfile.TemporaryDirectory(prefix="cutline-probe-") as workdir:
        link = Path(workdir) / "media"
        os.symlink(Path(path).resolve(), link)
        yield link


def ffmpeg_input_args(link: Path) -> list[str]:
    """The locked-down input options every ffmpeg/ffprobe run on an upload uses."""
    return ["-protocol_whitelist", "file", "-format_whitelist", FORMAT_WHITELIST, "-i", f"file:{link}"]


def _run_ffprobe(link: Path) -> dict[str, Any]:
    args = [ffprobe_exe(), "-v", "error", "-hide_banner", "-print_format", "json",
            "-show_format", "-show_streams", "-protocol_whitelist", "file", "-format_whitelist", FORMAT_WHITELIST,
            f"file:{link}"]
    try:
        done = subprocess.run(args, capture_output=True, timeout=settings.MEDIA_PROBE_TIMEOUT, check=False,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise MediaUnreadable(
            f"Examining the file took longer than {settings.MEDIA_PROBE_TIMEOUT:g} s; it is not media we can use."
        ) from None
    except OSError:
        logger.exception("cannot run ffprobe at %s", ffprobe_exe())
        raise ProbeUnavailable() from None
    if done.returncode != 0:
        # ffprobe's own words name the temporary path; they go to the log, never to the person.
        logger.info("ffprobe refused an upload: %s", done.stderr.decode(errors="replace")[-500:])
        raise MediaUnreadable("This file is not audio, video or an image in a format we accept "
                              "(mp4, mov, m4v, webm, mkv, mp3, m4a, aac, wav, ogg, flac, png, jpeg, webp).")
    try:
        return json.loads(done.stdout or b"{}")
    except ValueError:
        raise MediaUnreadable("This file could not be examined.") from None


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None


def _rate(text: Any) -> float | None:
    num, _, den = str(text or "").partition("/")
    value, divisor = _float(num), _float(den or 1)
    if value is None or not divisor:
        return None
    rate = value / divisor
    return round(rate, 3) if 0 < rate <= 1000 else None


def _container(demuxer: str, fmt: dict[str, Any], video: dict | None, audio: dict | None) -> str:
    names = demuxer.split(",")
    if "mov" in names:
        brand = str((fmt.get("tags") or {}).get("major_brand", "")).strip().lower()
        if brand == "qt":
            return "mov"
        if brand.startswith("m4v"):
            return "m4v"
        if brand.startswith("m4a") or video is None:
            return "m4a"
        return "mp4"
    if "matroska" in names:
        codecs = {(video or {}).get("codec_name"), (audio or {}).get("codec_name")} - {None}
        return "webm" if codecs <= {"vp8", "vp9", "av1", "vorbis", "opus"} else "mkv"
    return next(DEMUXERS[name] for name in names if name in DEMUXERS)


def interpret_probe(data: dict[str, Any]) -> MediaProbe:
    """Turn ffprobe's JSON into a MediaProbe, or refuse what we will not store."""
    fmt = data.get("format") or {}
    demuxer = str(fmt.get("format_name") or "")
    if not any(name in DEMUXERS for name in demuxer.split(",")):
        raise MediaUnreadable("This file's format is not one we accept "
                              "(mp4, mov, m4v, webm, mkv, mp3, m4a, aac, wav, ogg, flac, png, jpeg, webp).")
    streams = data.get("streams") or []
    video = next((s for s in streams if s.get("codec_type") == "video"
                  and not (s.get("disposition") or {}).get("attached_pic")), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if video is None and audio is None:
        raise MediaUnreadable("The file holds neither pictures nor sound.")

    width = height = None
    if video is not None:
        width, height = video.get("width"), video.get("height")
        if not isinstance(width, int) or not isinstance(height, int) or width <= 0 or height <= 0:
            raise MediaUnreadable("The file's picture has no usable size.")
        if width > MAX_DIMENSION or height > MAX_DIMENSION:
            raise MediaUnreadable(f"The picture is {width}×{height}; at most {MAX_DIMENSION} pixels a side "
                                  "are accepted.")

    container = _container(demuxer, fmt, video, audio)
    if demuxer in IMAGE_DEMUXERS:
        return MediaProbe(kind="image", container=container, format_name=demuxer, duration=None, width=width,
                          height=height, fps=None, has_audio=False, video_codec=str(video.get("codec_name") or ""),
                          audio_codec="")

    duration = _float(fmt.get("duration")) or _float((video or audio).get("duration"))
    if duration is None or duration <= 0:
        raise MediaUnreadable("The file has no duration; it may be truncated or still being recorded.")
    return MediaProbe(
        kind="video" if video is not None else "audio",
        container=container,
        format_name=demuxer,
        duration=round(duration, 6),
        width=width,
        height=height,
        fps=(_rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate"))) if video else None,
        has_audio=audio is not None,
        video_codec=str((video or {}).get("codec_name") or ""),
        audio_codec=str((audio or {}).get("codec_name") or ""),
    )


def probe_media(path: Path) -> MediaProbe:
    """Probe a local file; raises MediaUnreadable (with a sentence for people, never a path)."""
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    refusal = sniff_refusal(head)
    if refusal:
        raise MediaUnreadable(refusal)
    with neutral_path(path) as link:
        return interpret_probe(_run_ffprobe(link))
